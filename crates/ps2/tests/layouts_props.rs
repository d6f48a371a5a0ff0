//! Property tests for the keyboard state: random key event streams never panic, and the
//! modifier and lock state always equals a simple model.

use irqkit_ps2::keyboard::{DecodedKey, Keyboard, Locks, Modifiers, Pending};
use irqkit_ps2::layout::AnyLayout;
use irqkit_ps2::{KeyCode, KeyEvent, KeyKind};
use proptest::prelude::*;
use std::collections::BTreeSet;

/// Keys where the interesting state lives, drawn more often than the rest.
const HOT: [KeyCode; 22] = [
    KeyCode::LeftShift,
    KeyCode::RightShift,
    KeyCode::LeftCtrl,
    KeyCode::RightCtrl,
    KeyCode::LeftAlt,
    KeyCode::RightAlt,
    KeyCode::LeftMeta,
    KeyCode::RightMeta,
    KeyCode::CapsLock,
    KeyCode::NumLock,
    KeyCode::ScrollLock,
    KeyCode::Quote,
    KeyCode::Backquote,
    KeyCode::Equals,
    KeyCode::LeftBracket,
    KeyCode::Digit2,
    KeyCode::E,
    KeyCode::Space,
    KeyCode::Numpad7,
    KeyCode::NumpadPeriod,
    KeyCode::ContextMenu,
    KeyCode::Up,
];

fn key() -> impl Strategy<Value = KeyCode> {
    prop_oneof![
        prop::sample::select(&HOT[..]),
        prop::sample::select(&KeyCode::ALL[..]),
    ]
}

fn event() -> impl Strategy<Value = KeyEvent> {
    let kind = prop_oneof![
        Just(KeyKind::Press),
        Just(KeyKind::Release),
        Just(KeyKind::Repeat)
    ];
    (key(), kind).prop_map(|(code, kind)| KeyEvent { code, kind })
}

fn keyboard() -> impl Strategy<Value = Keyboard<AnyLayout>> {
    (
        prop::sample::select(&AnyLayout::ALL[..]),
        0u8..8,
        any::<bool>(),
        prop::option::of(prop::sample::select(
            &[KeyCode::ContextMenu, KeyCode::RightMeta][..],
        )),
    )
        .prop_map(|(layout, locks, ctrl_alt, compose)| {
            Keyboard::with_locks(layout, Locks::from_bits_truncate(locks))
                .ctrl_alt_is_altgr(ctrl_alt)
                .with_compose_key(compose)
        })
}

/// The modifier keys held, as a set of keys.
fn model_modifiers(held: &BTreeSet<KeyCode>) -> Modifiers {
    held.iter()
        .filter_map(|&k| Modifiers::of(k))
        .fold(Modifiers::empty(), |a, b| a | b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn state_matches_model(mut kb in keyboard(), events in prop::collection::vec(event(), 0..200)) {
        let compose_key = [KeyCode::ContextMenu, KeyCode::RightMeta]
            .into_iter()
            .find(|&k| {
                // Which key (if any) the keyboard treats as Compose: probe a copy.
                let mut probe = kb;
                probe.release_all();
                probe.process(KeyEvent::press(k)).for_each(drop);
                probe.pending() == Pending::Compose
            });
        let mut held = BTreeSet::new();
        let mut locks = kb.locks();
        for event in events {
            let out: Vec<DecodedKey> = kb.process(event).collect();
            prop_assert!(out.len() <= 2);
            let is_compose = Some(event.code) == compose_key;
            if Modifiers::of(event.code).is_some() && !is_compose {
                match event.kind {
                    KeyKind::Release => { held.remove(&event.code); }
                    _ => { held.insert(event.code); }
                }
                prop_assert!(out.is_empty());
            }
            let lock_toggled = match Locks::of(event.code) {
                Some(lock) if event.kind == KeyKind::Press => {
                    locks.toggle(lock);
                    true
                }
                _ => false,
            };
            if lock_toggled {
                prop_assert_eq!(&out, &[DecodedKey::LocksChanged(locks)]);
            } else {
                prop_assert!(!out.iter().any(|k| matches!(k, DecodedKey::LocksChanged(_))));
            }
            if event.kind == KeyKind::Release {
                prop_assert!(out.is_empty());
            }
            prop_assert_eq!(kb.modifiers(), model_modifiers(&held));
            prop_assert_eq!(kb.locks(), locks);
        }
    }

    /// Whatever is pending, a non-character key flushes it and is reported last.
    #[test]
    fn non_character_key_flushes(mut kb in keyboard(), events in prop::collection::vec(event(), 0..50)) {
        for event in events {
            kb.process(event).for_each(drop);
        }
        let before = kb.pending();
        let out: Vec<DecodedKey> = kb.process(KeyEvent::press(KeyCode::F5)).collect();
        prop_assert_eq!(out.last(), Some(&DecodedKey::Key(KeyCode::F5)));
        prop_assert_eq!(kb.pending(), Pending::None);
        let flushed = match before {
            Pending::None | Pending::Compose => 0,
            Pending::Dead { .. } | Pending::ComposeFirst(_) => 1,
        };
        prop_assert_eq!(out.len(), 1 + flushed);
    }
}
