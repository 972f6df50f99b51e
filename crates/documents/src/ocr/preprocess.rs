//! Page clean-up before OCR: whitening ruling lines, along the page's skew.
//!
//! Tesseract reads text boxed by form rules or sitting on a table rule poorly (a header over
//! a rule can vanish, box edges come out as `|` or `ee`). On a scan the rules are slightly
//! slanted, so they are searched along the measured skew rather than along pixel rows; the
//! page itself is not rotated (Tesseract and our layout handle small skews, and rotating costs
//! more than everything else here together). Hand-written (a projection-profile angle search,
//! run scanning, and a bilinear rotation the corpus generator also uses): an image-processing
//! crate would be a large dependency for this.

use image::GrayImage;

/// The widest skew searched, in degrees.
const MAX_SKEW_DEGREES: f32 = 3.0;

/// Pixels darker than this are ink.
const INK: u8 = 128;
/// Pixels darker than this can belong to a rule (thin rules blur to light gray in scans).
const RULE: u8 = 210;

/// Estimates the skew (degrees, positive = text runs down to the right) by maximising the
/// sharpness of the horizontal ink profile over candidate angles, on every 4th column.
pub fn estimate_skew(image: &GrayImage) -> f32 {
    // Columns are sampled, rows are not: bins one pixel high separate angles a few hundredths of
    // a degree apart, and a row sampled more coarsely than its bins leaves every other bin
    // empty at angle 0 alone, which then outscores the true angle.
    const STEP: u32 = 4;
    let (w, h) = image.dimensions();
    let ink: Vec<(f32, f32)> = (0..h)
        .flat_map(|y| (0..w / STEP).map(move |x| (x * STEP, y)))
        .filter(|&(x, y)| image.get_pixel(x, y).0[0] < INK)
        .map(|(x, y)| (x as f32, y as f32))
        .collect();
    if ink.len() < 50 {
        return 0.0;
    }
    // Room above and below for rows that the slant moves off the page.
    let drift = (w as f32 * MAX_SKEW_DEGREES.to_radians().tan()).ceil() as usize + 1;
    let bins_len = h as usize + 2 * drift;
    let score = |degrees: f32| -> f64 {
        let slope = degrees.to_radians().tan();
        let mut bins = vec![0u32; bins_len];
        for &(x, y) in &ink {
            let level = (y - slope * x).round() as isize + drift as isize;
            if let Some(bin) = usize::try_from(level).ok().and_then(|l| bins.get_mut(l)) {
                *bin += 1;
            }
        }
        bins.iter().map(|&b| f64::from(b) * f64::from(b)).sum()
    };
    // The middle of the best-scoring run of angles (a flat top has no single best).
    let search = |from: f32, to: f32, steps: usize| {
        let step = (to - from) / steps as f32;
        let scores: Vec<(f32, f64)> =
            (0..=steps).map(|i| from + step * i as f32).map(|a| (a, score(a))).collect();
        let best = scores.iter().map(|s| s.1).fold(f64::MIN, f64::max);
        let first = scores.iter().position(|s| s.1 >= best).unwrap_or(0);
        let run = scores[first..].iter().take_while(|s| s.1 >= best).count();
        (scores[first].0 + scores[first + run - 1].0) / 2.0
    };
    let coarse = search(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES, 30);
    search(coarse - 0.2, coarse + 0.2, 10)
}

/// Rotates by `degrees` about the centre (bilinear, white outside): positive turns the content
/// clockwise. Source coordinates advance incrementally in 16.16 fixed point (float `floor` is a
/// library call on baseline x86-64 and made this 8× slower).
pub fn rotate(image: &GrayImage, degrees: f32) -> GrayImage {
    const ONE: i64 = 1 << 16;
    let (w, h) = (image.width() as i64, image.height() as i64);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let src = image.as_raw();
    let at = |x: i64, y: i64| -> i64 {
        if x < 0 || y < 0 || x >= w || y >= h { 255 } else { i64::from(src[(y * w + x) as usize]) }
    };
    let (step_x, step_y) = ((cos * ONE as f32) as i64, (-sin * ONE as f32) as i64);
    let mut out = vec![255u8; (w * h) as usize];
    for y in 0..h {
        let dy = y as f32 - cy;
        let mut sx = ((-cos * cx + sin * dy + cx) * ONE as f32) as i64;
        let mut sy = ((sin * cx + cos * dy + cy) * ONE as f32) as i64;
        let row = &mut out[(y * w) as usize..((y + 1) * w) as usize];
        for p in row.iter_mut() {
            let (x0, y0) = (sx >> 16, sy >> 16);
            let (fx, fy) = (sx & (ONE - 1), sy & (ONE - 1));
            let (p00, p01, p10, p11) = if x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h {
                let i = (y0 * w + x0) as usize;
                let j = i + w as usize;
                (i64::from(src[i]), i64::from(src[i + 1]), i64::from(src[j]), i64::from(src[j + 1]))
            } else {
                (at(x0, y0), at(x0 + 1, y0), at(x0, y0 + 1), at(x0 + 1, y0 + 1))
            };
            let top = p00 * (ONE - fx) + p01 * fx;
            let bottom = p10 * (ONE - fx) + p11 * fx;
            *p = ((top * (ONE - fy) + bottom * fy + (1 << 31)) >> 32).clamp(0, 255) as u8;
            sx += step_x;
            sy += step_y;
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| image.clone())
}

/// Whitens ruling lines: straight runs of ink, slanted by `skew_degrees`, at least 15% of the
/// page width (horizontal) or 3% of its height (vertical). No glyph at body or title sizes has
/// a straight run that long; form boxes and table rules do. A scanned rule is blurred to light
/// gray and speckled by noise, so a pixel counts as rule ink when it or a neighbour across the
/// rule is darker than [`RULE`], and runs may have three-pixel gaps.
pub fn remove_rules(image: &mut GrayImage, skew_degrees: f32) {
    const GAP: usize = 3;
    let (w, h) = (image.width() as usize, image.height() as usize);
    if w < 3 || h < 3 {
        return;
    }
    let slope = skew_degrees.to_radians().tan();
    let (min_h, min_v) = ((w * 15 / 100).max(40), (h * 3 / 100).max(40));
    let pixels = image.as_raw();
    let mut mask = vec![false; w * h];
    let dark = |i: usize, across: usize| {
        let (a, b) = (i.saturating_sub(across), (i + across).min(w * h - 1));
        pixels[i].min(pixels[a]).min(pixels[b]) < RULE
    };
    // Horizontal rules: runs along slanted rows y = r + slope·x.
    // Offsets precomputed: float rounding per pixel is a library call on baseline x86-64.
    let rise: Vec<i64> = (0..w).map(|x| (slope * x as f32).round() as i64).collect();
    let shift: Vec<i64> = (0..h).map(|y| (slope * y as f32).round() as i64).collect();
    let drift = rise[w - 1];
    let (first, last_row) = ((-drift).min(0), h as i64 + (-drift).max(0));
    for r in first..last_row {
        let at = |x: usize| {
            let y = r + rise[x];
            (y >= 0 && y < h as i64).then(|| y as usize * w + x)
        };
        let mut x = 0;
        while x < w {
            if !at(x).is_some_and(|i| dark(i, w)) {
                x += 1;
                continue;
            }
            let (start, mut end, mut gap) = (x, x, 0);
            x += 1;
            while x < w && gap <= GAP {
                if at(x).is_some_and(|i| dark(i, w)) {
                    end = x;
                    gap = 0;
                } else {
                    gap += 1;
                }
                x += 1;
            }
            if end + 1 - start >= min_h {
                (start..=end).filter_map(at).for_each(|i| mask[i] = true);
            }
        }
    }
    // Vertical rules: every slanted column's current run (x = c − slope·y), advanced row by row.
    let lean = shift[h - 1];
    let (c0, columns) = (lean.min(0), w + lean.unsigned_abs() as usize);
    let (mut start, mut end, mut gap) =
        (vec![usize::MAX; columns], vec![0usize; columns], vec![0usize; columns]);
    let x_of = |c: usize, y: usize| c as i64 + c0 - shift[y];
    for y in 0..=h {
        for c in 0..columns {
            let x = x_of(c, y.min(h - 1));
            let ink = y < h && (0..w as i64).contains(&x) && dark(y * w + x as usize, 1);
            if ink {
                if start[c] == usize::MAX {
                    start[c] = y;
                }
                end[c] = y;
                gap[c] = 0;
            } else if start[c] != usize::MAX {
                gap[c] += 1;
                if gap[c] > GAP || y == h {
                    if end[c] + 1 - start[c] >= min_v {
                        for yy in start[c]..=end[c] {
                            let x = x_of(c, yy);
                            if (0..w as i64).contains(&x) {
                                mask[yy * w + x as usize] = true;
                            }
                        }
                    }
                    start[c] = usize::MAX;
                }
            }
        }
    }
    // Clear the marked pixels and the gray fringe of the rule beside them.
    let raw = image.as_mut();
    for i in 0..w * h {
        if mask[i] {
            raw[i] = 255;
            for n in [i.wrapping_sub(1), i + 1, i.wrapping_sub(w), i + w, i.wrapping_sub(2 * w), i + 2 * w] {
                if n < w * h && !mask[n] && raw[n] < RULE + 30 {
                    raw[n] = 255;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    /// A page with a few lines of "text" (short dark dashes) and a long rule.
    fn page() -> GrayImage {
        let mut img = GrayImage::from_pixel(800, 1000, Luma([255]));
        for row in 0..8u32 {
            let y = 100 + row * 60;
            for word in 0..12u32 {
                for x in (60 + word * 55)..(100 + word * 55) {
                    for dy in 0..12 {
                        if x % 5 != 0 {
                            img.put_pixel(x, y + dy, Luma([20]));
                        }
                    }
                }
            }
        }
        for x in 50..750 {
            img.put_pixel(x, 700, Luma([0]));
            img.put_pixel(x, 701, Luma([0]));
        }
        img
    }

    #[test]
    fn measures_skew() {
        let skewed = rotate(&page(), 1.2);
        let estimate = estimate_skew(&skewed);
        assert!((estimate - 1.2).abs() < 0.15, "estimated {estimate}");
        let straight = estimate_skew(&page());
        assert!(straight.abs() < 0.1, "estimated {straight} for a straight page");
        assert!(estimate_skew(&rotate(&page(), -0.8)) < -0.6);
    }

    #[test]
    fn removes_rules_but_not_text_even_when_skewed() {
        let mut img = page();
        remove_rules(&mut img, 0.0);
        assert_eq!(img.get_pixel(400, 700).0[0], 255, "the rule is gone");
        assert_eq!(img.get_pixel(61, 105).0[0], 20, "the text is kept");
        let mut skewed = rotate(&page(), 1.2);
        let skew = estimate_skew(&skewed);
        let ink_before = skewed.pixels().filter(|p| p.0[0] < 128).count();
        remove_rules(&mut skewed, skew);
        let rule_row = (690..712).map(|y| skewed.get_pixel(600, y).0[0]).min();
        assert_eq!(rule_row, Some(255), "the slanted rule is gone");
        let ink_after = skewed.pixels().filter(|p| p.0[0] < 128).count();
        assert!(ink_after * 10 > ink_before * 8, "most ink (the text) stays: {ink_after} of {ink_before}");
    }
}
