//! The fake's pictures: one PNG per image candidate, drawn from a hash of the request and the
//! candidate's index, so that candidates, seeds and prompts look different at a glance (a
//! `--fake` contact sheet shows which is which) while the same request and index always give
//! the same bytes.
//!
//! A picture is a background colour, a few bars, stripes and circles placed by the hash, and
//! the candidate's number (1-based) in the top left corner. Shapes are filled span by span, not
//! pixel by pixel through a shape test, so a picture is cheap even in a debug build.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The short side of every picture (the video models want at least 400 px: HappyHorse; 300: Kling).
pub const SHORT_SIDE: u32 = 480;
/// The long side at most.
pub const LONG_SIDE_MAX: u32 = 1920;

/// The picture's size for an output of `width × height`: the same aspect, the short side
/// [`SHORT_SIDE`] unless the long side would pass [`LONG_SIDE_MAX`].
pub fn pixels_for(width: u32, height: u32) -> (u32, u32) {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let scale = (f64::from(SHORT_SIDE) / w.min(h)).min(f64::from(LONG_SIDE_MAX) / w.max(h));
    let side = |v: f64| ((v * scale).round() as u32).max(1);
    (side(w), side(h))
}

struct Canvas {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Canvas {
    fn new(width: u32, height: u32, colour: [u8; 3]) -> Canvas {
        let rgb = colour.iter().copied().cycle().take(width as usize * height as usize * 3).collect();
        Canvas { width, height, rgb }
    }

    /// Fills `[x0, x1) × [y0, y1)`, clipped.
    fn rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, colour: [u8; 3]) {
        let (w, h) = (i64::from(self.width), i64::from(self.height));
        let (x0, x1, y0, y1) = (x0.clamp(0, w), x1.clamp(0, w), y0.clamp(0, h), y1.clamp(0, h));
        for y in y0..y1 {
            let row = (y * w) as usize * 3;
            for px in self.rgb[row + x0 as usize * 3..row + x1 as usize * 3].chunks_exact_mut(3) {
                px.copy_from_slice(&colour);
            }
        }
    }

    fn circle(&mut self, cx: i64, cy: i64, r: i64, colour: [u8; 3]) {
        for dy in -r..=r {
            let half = ((r * r - dy * dy) as f64).sqrt() as i64;
            self.rect(cx - half, cy + dy, cx + half + 1, cy + dy + 1, colour);
        }
    }

    /// Draws `number` in a blocky 3×5 font, each font pixel `scale` pixels, on a light plate.
    fn number(&mut self, number: u32, x: i64, y: i64, scale: i64) {
        const DIGITS: [[u8; 5]; 10] = [
            [7, 5, 5, 5, 7],
            [2, 6, 2, 2, 7],
            [7, 1, 7, 4, 7],
            [7, 1, 7, 1, 7],
            [5, 5, 7, 1, 1],
            [7, 4, 7, 1, 7],
            [7, 4, 7, 5, 7],
            [7, 1, 1, 1, 1],
            [7, 5, 7, 5, 7],
            [7, 5, 7, 1, 7],
        ];
        let text = number.to_string();
        let len = text.len() as i64;
        self.rect(x, y, x + scale * (4 * len + 1), y + scale * 7, [245, 245, 240]);
        for (i, digit) in text.bytes().enumerate() {
            let rows = DIGITS[usize::from(digit - b'0')];
            let left = x + scale * (1 + 4 * i as i64);
            for (row, bits) in rows.iter().enumerate() {
                for col in 0..3 {
                    if bits & (4 >> col) != 0 {
                        let (px, py) = (left + scale * col, y + scale * (1 + row as i64));
                        self.rect(px, py, px + scale, py + scale, [20, 20, 25]);
                    }
                }
            }
        }
    }
}

/// A colour of hue `h` in [0, 1) at saturation `s` and value `v` (HSV).
fn hsv(h: f64, s: f64, v: f64) -> [u8; 3] {
    let i = (h * 6.0).floor();
    let f = h * 6.0 - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - f * s), v * (1.0 - (1.0 - f) * s));
    let (r, g, b) = match i as i64 % 6 {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    };
    [(r * 255.0) as u8, (g * 255.0) as u8, (b * 255.0) as u8]
}

/// Candidate `index` (0-based) of the request `seed_text`, `width × height` pixels, as PNG.
pub fn candidate(seed_text: &str, index: u32, width: u32, height: u32) -> Result<Vec<u8>, png::EncodingError> {
    let hash = blake3::hash(&[seed_text.as_bytes(), &index.to_le_bytes()].concat());
    let mut rng = SmallRng::from_seed(*hash.as_bytes());
    let base_hue: f64 = rng.random();
    let mut canvas =
        Canvas::new(width, height, hsv(base_hue, rng.random_range(0.35..0.7), rng.random_range(0.55..0.9)));
    let (w, h) = (i64::from(width), i64::from(height));
    let short = w.min(h).max(48);
    let colour = |rng: &mut SmallRng| {
        let hue = (base_hue + rng.random_range(0.15..0.85)) % 1.0;
        hsv(hue, rng.random_range(0.4..1.0), rng.random_range(0.3..1.0))
    };
    // Stripes across the picture, horizontal or vertical.
    let vertical = rng.random_bool(0.5);
    let period = rng.random_range(short / 12..short / 4).max(4);
    let thick = rng.random_range(2..period / 2 + 3);
    let stripe = colour(&mut rng);
    let (from, to) = (rng.random_range(0..w.max(h) / 2), rng.random_range(w.max(h) / 2..=w.max(h)));
    let mut at = from;
    while at < to {
        if vertical {
            canvas.rect(at, 0, at + thick, h, stripe)
        } else {
            canvas.rect(0, at, w, at + thick, stripe)
        }
        at += period;
    }
    for _ in 0..rng.random_range(2..=4) {
        let (bw, bh) = (rng.random_range(short / 10..w / 2 + 2), rng.random_range(short / 10..h / 2 + 2));
        let (x, y) = (rng.random_range(-bw / 2..w), rng.random_range(-bh / 2..h));
        let c = colour(&mut rng);
        canvas.rect(x, y, x + bw, y + bh, c);
    }
    for _ in 0..rng.random_range(3..=6) {
        let r = rng.random_range(short / 16..short / 4);
        let (x, y) = (rng.random_range(0..w), rng.random_range(0..h));
        let c = colour(&mut rng);
        canvas.circle(x, y, r, c);
    }
    let scale = (short / 60).max(2);
    canvas.number(index + 1, scale * 2, scale * 2, scale);
    encode(&canvas)
}

fn encode(canvas: &Canvas) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, canvas.width, canvas.height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&canvas.rgb)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_side_is_480_and_the_long_side_at_most_1920() {
        assert_eq!(pixels_for(1696, 960), (848, 480));
        assert_eq!(pixels_for(960, 1696), (480, 848));
        assert_eq!(pixels_for(2048, 2048), (480, 480));
        assert_eq!(pixels_for(8000, 1000), (1920, 240), "8:1 keeps its aspect within the long side");
    }

    #[test]
    fn the_same_request_and_index_give_the_same_bytes_and_others_differ() {
        let a = candidate("body", 0, 64, 48).expect("png");
        assert_eq!(a, candidate("body", 0, 64, 48).expect("png"));
        assert_ne!(a, candidate("body", 1, 64, 48).expect("png"));
        assert_ne!(a, candidate("other body", 0, 64, 48).expect("png"));
        assert_eq!(&a[1..4], b"PNG");
    }
}
