// The contact sheet's behaviour (inlined into review.html by sheet.rs). No network: the only
// request is the pick POST, to the review server that served the page.
const token = document.body.dataset.token;
const said = document.getElementById('said');
function say(text) { said.textContent = text; }

// Videos load only when scrolled near.
const lazy = new IntersectionObserver(es => {
  for (const e of es) {
    if (e.isIntersecting) { const v = e.target; v.src = v.dataset.src; v.preload = 'metadata'; lazy.unobserve(v); }
  }
}, {rootMargin: '400px'});
document.querySelectorAll('.take video[data-src]').forEach(v => lazy.observe(v));

// Filters.
function filter() {
  const s = document.getElementById('state').value, t = document.getElementById('text').value.toLowerCase();
  document.querySelectorAll('.take').forEach(f => {
    const ok = (s === '' || f.dataset.state === s) && (t === '' || f.dataset.search.includes(t));
    f.classList.toggle('hidden', !ok);
  });
}
document.getElementById('state').addEventListener('change', filter);
document.getElementById('text').addEventListener('input', filter);
document.querySelectorAll('button.play').forEach(b => b.addEventListener('click', () => {
  b.closest('section').querySelectorAll('.take:not(.hidden) video').forEach(v => { if (!v.src) { v.src = v.dataset.src; } v.play(); });
}));

// The keyboard cursor: one take (or candidate image) at a time, kept across the reload a pick does.
let cursor = null;
const idOf = f => f.dataset.key + '#' + (f.dataset.index || '');
function visible() { return [...document.querySelectorAll('.take')].filter(f => !f.classList.contains('hidden')); }
function place(f, scroll) {
  if (!f) return;
  if (cursor) { cursor.classList.remove('cursor'); cursor.removeAttribute('aria-current'); }
  cursor = f;
  f.classList.add('cursor');
  f.setAttribute('aria-current', 'true');
  f.focus({preventScroll: !scroll});
  if (scroll) f.scrollIntoView({block: 'nearest'});
  try { sessionStorage.setItem('pixbatch-cursor', idOf(f)); } catch (e) { /* file:// may refuse storage */ }
}
function remembered() {
  try { const id = sessionStorage.getItem('pixbatch-cursor'); return visible().find(f => idOf(f) === id); } catch (e) { return null; }
}
place(remembered() || visible()[0], false);
document.querySelectorAll('.take').forEach(f => f.addEventListener('click', () => place(f, false)));

// Picks (served pages only: they carry a token).
async function pick(b) {
  say('picking…');
  const r = await fetch('/pick', {method: 'POST', headers: {'Content-Type': 'application/json', 'X-Pixbatch-Token': token},
    body: JSON.stringify({shot: b.dataset.shot, variant: b.dataset.variant})});
  if (r.ok) { say(await r.text()); location.reload(); } else { say('pick failed: ' + await r.text()); }
}
document.querySelectorAll('button.pick').forEach(b => b.addEventListener('click', () => pick(b)));

function move(step) {
  const all = visible();
  if (all.length === 0) return;
  const i = all.indexOf(cursor);
  place(all[Math.max(0, Math.min(all.length - 1, i < 0 ? 0 : i + step))], true);
}
function moveSection(step) {
  const sections = [...document.querySelectorAll('section.shot')].filter(s => s.querySelector('.take:not(.hidden)'));
  const here = cursor ? sections.indexOf(cursor.closest('section.shot')) : -1;
  const to = sections[Math.max(0, Math.min(sections.length - 1, here + step))];
  if (to) place(to.querySelector('.take:not(.hidden)'), true);
}
const dialog = document.getElementById('compare');
document.addEventListener('keydown', e => {
  if (e.ctrlKey || e.metaKey || e.altKey || dialog.open) return;
  if (e.target.matches('input[type=search], select, textarea')) return;
  const keys = {ArrowRight: () => move(1), ArrowLeft: () => move(-1), ArrowDown: () => moveSection(1), ArrowUp: () => moveSection(-1),
    p: () => {
      const b = cursor && cursor.querySelector('button.pick');
      if (b) pick(b); else say(token ? 'this one cannot be picked: it has no finished image or video' : 'picks are made in `pixbatch review`');
    },
    c: () => {
      const c = cursor && cursor.querySelector('input.compare');
      if (c) { c.checked = !c.checked; c.dispatchEvent(new Event('change')); } else say('only a finished take of a shot with several takes can be compared');
    }};
  const act = keys[e.key];
  if (act) { e.preventDefault(); act(); }
});

// Compare: two takes side by side; one control drives both, the second follows the first.
const seek = document.getElementById('cseek'), time = document.getElementById('ctime'), playButton = document.getElementById('cplay');
let va = null, vb = null, chosen = [];
function video(slot) {
  const v = document.createElement('video');
  Object.assign(v, {muted: true, loop: true, playsInline: true, preload: 'auto'});
  document.getElementById(slot).append(v);
  return v;
}
function follow() { if (!vb.seeking && Math.abs(vb.currentTime - va.currentTime) > 0.05) vb.currentTime = va.currentTime; }
function makeVideos() {
  va = video('cav'); vb = video('cbv');
  va.addEventListener('loadedmetadata', () => { seek.max = String(va.duration || 1); });
  va.addEventListener('timeupdate', () => { if (!seek.matches(':active')) seek.value = String(va.currentTime); time.textContent = va.currentTime.toFixed(2) + ' s'; follow(); });
  va.addEventListener('seeked', () => { vb.currentTime = va.currentTime; });
  va.addEventListener('play', () => { playButton.textContent = 'pause'; if (vb.paused) vb.play(); });
  va.addEventListener('pause', () => { playButton.textContent = 'play'; if (!vb.paused) vb.pause(); vb.currentTime = va.currentTime; });
}
document.querySelectorAll('input.compare').forEach(c => c.addEventListener('change', () => {
  chosen = chosen.filter(x => x !== c);
  if (c.checked) chosen.push(c);
  while (chosen.length > 2) { chosen.shift().checked = false; }
  if (chosen.length === 2) openCompare();
}));
function openCompare() {
  if (!va) makeVideos();
  va.src = chosen[0].dataset.src; vb.src = chosen[1].dataset.src;
  document.getElementById('cal').textContent = chosen[0].dataset.label;
  document.getElementById('cbl').textContent = chosen[1].dataset.label;
  dialog.showModal();
  playButton.focus();
}
playButton.addEventListener('click', () => { if (va.paused) { va.play(); vb.play(); } else { va.pause(); } });
seek.addEventListener('input', () => { const t = Number(seek.value); va.currentTime = t; vb.currentTime = t; });
document.getElementById('cclose').addEventListener('click', () => dialog.close());
dialog.addEventListener('close', () => {
  if (va) { va.pause(); vb.pause(); }
  chosen.forEach(c => { c.checked = false; });
  chosen = [];
  if (cursor) cursor.focus({preventScroll: true});
});
