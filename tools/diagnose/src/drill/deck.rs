//! The drill's deck: every scenario once and a control (no leak) twice per seven cards,
//! shuffled by a seed so that a drill can be replayed card for card.

use contract::scenario::Scenario;

/// Controls per deck of seven: a no-leak round is how false alarms are caught.
const CONTROLS: usize = 2;

/// One round's hidden truth: a scenario switched to leaky, or none (a control).
pub type Card = Option<Scenario>;

/// `rounds` cards: whole decks of the five scenarios and two controls, each deck shuffled.
pub fn deal(seed: u64, rounds: usize) -> Vec<Card> {
    let mut rng = SplitMix64(seed);
    let mut cards = Vec::with_capacity(rounds);
    while cards.len() < rounds {
        let mut deck: Vec<Card> = Scenario::ALL.into_iter().map(Some).collect();
        deck.extend(std::iter::repeat_n(None, CONTROLS));
        // Fisher–Yates.
        for i in (1..deck.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            deck.swap(i, j);
        }
        cards.extend(deck);
    }
    cards.truncate(rounds);
    cards
}

/// SplitMix64: a tiny, well-known generator whose sequence never changes with a dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use contract::scenario::Scenario;

    use super::deal;

    #[test]
    fn seven_rounds_hold_each_scenario_once_and_two_controls_in_a_seeded_order() {
        for seed in 0..50 {
            let cards = deal(seed, 7);
            assert_eq!(cards.iter().filter(|c| c.is_none()).count(), 2);
            for scenario in Scenario::ALL {
                assert_eq!(cards.iter().filter(|c| **c == Some(scenario)).count(), 1);
            }
            assert_eq!(cards, deal(seed, 7), "the same seed deals the same order");
        }
        assert_ne!(deal(1, 7), deal(2, 7), "another seed, another order");
        assert_eq!(
            deal(3, 10)[..7],
            deal(3, 7)[..],
            "more rounds start a second deck"
        );
    }
}
