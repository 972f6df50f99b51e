//! The order of a session's runs: interleaved, so drift on the machine (another build starting,
//! a cache warming, the load average creeping up) spreads over every scenario and configuration
//! alike instead of landing on whichever ran last.

/// One run of a session: the `run`-th (0-based) of scenario `scenario` against target `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub run: usize,
    pub scenario: usize,
    pub target: usize,
}

/// Every run in the order it is made: run 1 of each scenario (each against every target in turn),
/// then run 2 of each, … — never all runs of one scenario before the next.
pub fn interleave(runs: usize, scenarios: usize, targets: usize) -> Vec<Slot> {
    let mut slots = Vec::with_capacity(runs * scenarios * targets);
    for run in 0..runs {
        for scenario in 0..scenarios {
            for target in 0..targets {
                slots.push(Slot { run, scenario, target });
            }
        }
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::{Slot, interleave};

    fn names(slots: &[Slot]) -> Vec<String> {
        let scenario = ["A", "B", "C"];
        let target = ["x", "y"];
        slots.iter().map(|s| format!("{}{}{}", scenario[s.scenario], target[s.target], s.run + 1)).collect()
    }

    #[test]
    fn runs_go_round_the_scenarios_before_repeating() {
        assert_eq!(
            names(&interleave(3, 3, 1)),
            ["Ax1", "Bx1", "Cx1", "Ax2", "Bx2", "Cx2", "Ax3", "Bx3", "Cx3"]
        );
    }

    #[test]
    fn compared_targets_alternate_within_each_scenario() {
        assert_eq!(names(&interleave(2, 2, 2)), ["Ax1", "Ay1", "Bx1", "By1", "Ax2", "Ay2", "Bx2", "By2"]);
    }

    #[test]
    fn one_scenario_is_its_runs_in_turn_and_nothing_is_nothing() {
        assert_eq!(names(&interleave(3, 1, 1)), ["Ax1", "Ax2", "Ax3"]);
        assert!(interleave(0, 3, 1).is_empty());
        assert!(interleave(3, 0, 1).is_empty());
    }
}
