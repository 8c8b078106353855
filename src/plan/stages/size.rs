//! An image model's shape parameters from the manifest's `size`, or `resolution` and `ratio`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::catalog::images::{ImageModelSpec, ImageShape};

/// Pixels a side for each tier, for a `W*H` made from a tier and a ratio (`1K` ≈ 1280²,
/// as the Wan 2.6 page says of its `1K`).
fn tier_side(tier: &str) -> Option<u32> {
    match tier.to_ascii_uppercase().as_str() {
        "1K" => Some(1280),
        "2K" => Some(2048),
        "4K" => Some(4096),
        _ => None,
    }
}

fn parse_ratio(ratio: &str) -> Option<(f64, f64)> {
    let (w, h) = ratio.split_once(':')?;
    let (w, h): (f64, f64) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    (w > 0.0 && h > 0.0).then_some((w, h))
}

/// `W*H` with about `total` pixels at `ratio`, each side a multiple of 16: rounded down,
/// unless that falls under the model's minimum, then up.
fn sized(spec: &ImageModelSpec, total: f64, (rw, rh): (f64, f64)) -> String {
    let w = (total * rw / rh).sqrt();
    let h = w * rh / rw;
    let to16 = |x: f64, up: bool| ((if up { (x / 16.0).ceil() } else { (x / 16.0).floor() }) as u32).max(1) * 16;
    let down = format!("{}*{}", to16(w, false), to16(h, false));
    if spec.check_size(&down).is_ok() { down } else { format!("{}*{}", to16(w, true), to16(h, true)) }
}

/// The shape parameters to send; `Err` says what the model takes instead.
pub(super) fn params(
    spec: &ImageModelSpec,
    size: Option<&str>,
    resolution: Option<&str>,
    ratio: Option<&str>,
) -> Result<BTreeMap<String, Value>, String> {
    let mut out = BTreeMap::new();
    let id = spec.id;
    if size.is_some() && (resolution.is_some() || ratio.is_some()) {
        return Err("give `size`, or `resolution` and `ratio`, not both".into());
    }
    let ratio = match ratio {
        Some(r) => Some(parse_ratio(r).ok_or_else(|| format!("`{r}` is not a ratio like 16:9"))?),
        None => None,
    };
    match spec.shape {
        ImageShape::ResolutionRatio { ratios, .. } => {
            let res = resolution.or(size).or(spec.default_size).unwrap_or("1k").to_ascii_lowercase();
            spec.check_size(&res).map_err(|e| format!("{id} takes {e}"))?;
            out.insert("resolution".into(), res.into());
            if let Some((w, h)) = ratio {
                let text = ratios
                    .iter()
                    .find(|r| parse_ratio(r).is_some_and(|(a, b)| (a / b - w / h).abs() < 0.01))
                    .ok_or_else(|| format!("{id} takes the ratios {}", ratios.join(", ")))?;
                out.insert("aspect_ratio".into(), (*text).into());
            }
        }
        ImageShape::Fixed(sizes) => {
            let chosen = match (size, ratio) {
                (Some(s), _) => s.to_owned(),
                (None, Some((w, h))) => sizes
                    .iter()
                    .filter_map(|s| Some((s, crate::catalog::parse_size(s)?)))
                    .min_by(|a, b| {
                        let d = |(x, y): (u32, u32)| (f64::from(x) / f64::from(y) - w / h).abs();
                        d(a.1).total_cmp(&d(b.1))
                    })
                    .map(|(s, _)| (*s).to_owned())
                    .unwrap_or_default(),
                (None, None) => spec.default_size.unwrap_or_default().to_owned(),
            };
            if resolution.is_some() {
                return Err(format!("{id} has a fixed set of sizes and no `resolution`: {}", sizes.join(", ")));
            }
            spec.check_size(&chosen).map_err(|e| format!("{id} takes {e}"))?;
            out.insert("size".into(), chosen.into());
        }
        ImageShape::TierOrPixels { min_total, max_total, .. }
        | ImageShape::Pixels { min_total, max_total, .. }
        | ImageShape::Sides { min: min_total, max: max_total } => {
            let chosen = match (size, resolution, ratio) {
                (Some(s), _, _) => Some(s.to_owned()),
                (None, Some(tier), None) if matches!(spec.shape, ImageShape::TierOrPixels { .. }) => {
                    Some(tier.to_ascii_uppercase())
                }
                (None, res, Some(r)) => {
                    let side = match res {
                        Some(t) => tier_side(t).ok_or_else(|| format!("`{t}` is not a resolution: 1K, 2K or 4K"))?,
                        None => spec.default_size.and_then(tier_side).unwrap_or(min_total.max(1280).min(max_total)),
                    };
                    let side = f64::from(side.clamp(min_total, max_total));
                    Some(sized(spec, side * side, r))
                }
                (None, Some(t), None) => {
                    let side = tier_side(t).ok_or_else(|| format!("`{t}` is not a resolution: 1K, 2K or 4K"))?;
                    Some(format!("{0}*{0}", side.clamp(min_total, max_total)))
                }
                (None, None, None) => spec.default_size.map(str::to_owned),
            };
            if let Some(chosen) = chosen {
                spec.check_size(&chosen).map_err(|e| format!("{id} takes {e}"))?;
                out.insert("size".into(), chosen.into());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::images::image_lookup;

    fn p(model: &str, size: Option<&str>, res: Option<&str>, ratio: Option<&str>) -> Result<String, String> {
        let spec = image_lookup(model).expect("known");
        params(spec, size, res, ratio).map(|m| serde_json::to_string(&m).unwrap_or_default())
    }

    #[test]
    fn a_ratio_becomes_each_models_own_fields() {
        assert_eq!(p("wan2.7-image", None, Some("1K"), Some("16:9")).as_deref(), Ok(r#"{"size":"1696*960"}"#));
        assert_eq!(p("wan2.7-image", None, Some("2k"), None).as_deref(), Ok(r#"{"size":"2K"}"#));
        assert_eq!(p("wan2.7-image", None, None, None).as_deref(), Ok(r#"{"size":"2K"}"#));
        assert_eq!(p("qwen-image-plus", None, None, Some("3:4")).as_deref(), Ok(r#"{"size":"1104*1472"}"#));
        assert_eq!(
            p("kling/kling-v3-image-generation", None, Some("2K"), Some("9:16")).as_deref(),
            Ok(r#"{"aspect_ratio":"9:16","resolution":"2k"}"#)
        );
        assert!(
            p("kling/kling-v3-image-generation", None, None, Some("4:3")).is_err_and(|e| e.contains("16:9, 9:16, 1:1"))
        );
        assert!(p("wan2.6-t2i", Some("1024*1024"), None, None).is_err_and(|e| e.contains("1264")));
        // The page's own recommended sizes pass.
        assert_eq!(p("wan2.6-t2i", None, None, Some("16:9")).as_deref(), Ok(r#"{"size":"1696*960"}"#));
        assert_eq!(p("wan2.6-t2i", None, None, Some("3:4")).as_deref(), Ok(r#"{"size":"1104*1472"}"#));
    }
}
