//! The catalog's own consistency: ids, regions, prices, tables.

use super::*;

#[test]
fn v56_1080p_does_not_allow_ten_seconds() {
    let m = lookup(V56_R2V).expect("known model");
    let tier = m.tier_of("1920*1080").expect("allowed size");
    assert_eq!(tier, Tier::P1080);
    assert!(m.durations.allows(tier, 8));
    assert!(!m.durations.allows(tier, 10));
    assert!(m.durations.allows(Tier::P720, 10));
    assert_eq!(m.durations.text(tier), "5 or 8");
}

#[test]
fn c1_and_v56_differ_on_4_3_at_720p() {
    assert!(lookup(C1_R2V).and_then(|m| m.tier_of("1108*832")).is_some());
    assert!(lookup(V56_R2V).and_then(|m| m.tier_of("1108*832")).is_none());
    assert_eq!(lookup(V56_R2V).and_then(|m| m.nearest_size("1108*832")), Some("1108*830"));
}

#[test]
fn unknown_model_has_its_own_family() {
    assert_eq!(family_of("x/y"), Family::Other("x/y".into()));
    assert_eq!(family_of(C1_R2V).name(), "c1");
    assert_eq!(Family::from_name("v5.6"), family_of(V56_R2V));
}

#[test]
fn every_model_id_is_listed_once_and_has_a_region_and_a_price() {
    let mut ids: Vec<&str> = models().map(|m| m.id).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "a model id is listed twice");
    for m in models() {
        assert!(!m.regions.is_empty(), "{} has no region", m.id);
        let tiers = m.shape.tiers();
        assert!(!tiers.is_empty(), "{} has no tier", m.id);
        for t in tiers {
            let sound = m.sound(matches!(m.audio, Audio::Param { default: true }));
            assert!(m.price_per_second(t, sound, false, Region::CnBeijing).is_some(), "{} has no price at {t}", m.id);
        }
    }
}

#[test]
fn short_names_drop_the_vendor() {
    assert_eq!(short_name(C1_R2V), "c1-r2v");
    assert_eq!(short_name("vidu/viduq3_reference2video"), "viduq3_reference2video");
    assert_eq!(short_name("wan2.7-r2v"), "wan2.7-r2v");
}
