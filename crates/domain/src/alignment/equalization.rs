//! How equal a metric is across regions.

/// Coefficient of variation: population standard deviation / mean. None for
/// no values; 0 when the mean is 0 (all values zero are perfectly equal).
/// Values are non-negative metrics.
pub fn coefficient_of_variation(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let count = values.len() as f64;
    let mean = values.iter().sum::<f64>() / count;
    if mean == 0.0 {
        return Some(0.0);
    }
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / count;
    Some(variance.sqrt() / mean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alignment::testing::*;

    #[test]
    fn coefficient_of_variation_on_hand_computed_values() {
        // mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32; σ = √(32/8) = 2.
        let cv = coefficient_of_variation(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_close(cv, 0.4);
        // mean 2, σ = 1.
        assert_close(coefficient_of_variation(&[1.0, 3.0]).unwrap(), 0.5);
    }

    #[test]
    fn coefficient_of_variation_edge_cases() {
        assert_eq!(coefficient_of_variation(&[]), None);
        assert_eq!(coefficient_of_variation(&[0.0, 0.0, 0.0]), Some(0.0));
        assert_eq!(coefficient_of_variation(&[7.5]), Some(0.0));
        assert_eq!(coefficient_of_variation(&[3.0, 3.0]), Some(0.0));
    }
}
