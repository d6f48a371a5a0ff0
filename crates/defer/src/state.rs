//! Where a bottom half's state lives between runs.
//!
//! A [`Work`](crate::Work) handler is a plain `fn()`, so what it works on (the consumer of its
//! interrupt queue, a decoder, a command engine) lives in a `static` the kernel owns. Holding a
//! critical section for the whole run would keep interrupts masked while the bottom half works,
//! the very thing a bottom half exists to avoid. A [`State`] lends the value out instead: a
//! critical section just long enough to take it, the run with interrupts enabled, a critical
//! section to put it back.

use core::cell::Cell;
use core::fmt;

use critical_section::Mutex;

/// The state one bottom half (or any code that runs with interrupts enabled) owns between its
/// runs, in a `static`.
///
/// [`put`](State::put) it in place once at initialisation; every run borrows it with
/// [`with`](State::with), which takes it out inside a short critical section, runs the closure
/// with interrupts as they were (enabled in a bottom half), and puts it back, even if the
/// closure panics. A second `with` while the value is lent out (a nested call from the closure,
/// or another context) gets [`StateError::Lent`] instead of a second `&mut`, so the closure
/// never aliases. The top half should not use it: it would fail while a run holds the value;
/// give it its own handle (an irqkit-intq producer) instead.
///
/// `State<T>` is `Sync` when `T` is `Send`, so it can be a `static`; it needs a
/// `critical-section` implementation (irqkit-hal's `critical-section-single-core` on x86,
/// `critical-section/std` on the host).
///
/// # Examples
///
/// ```
/// use irqkit_defer::{Budget, Executor, State, StateError, Work};
///
/// struct Keyboard { bytes_seen: u32 }
///
/// static EXEC: Executor = Executor::new();
/// static KBD_BH: Work = Work::new(&EXEC, keyboard_bottom_half);
/// static KBD_STATE: State<Keyboard> = State::new();
///
/// fn keyboard_bottom_half() {
///     // Interrupts stay enabled during the closure: only the take and the put are masked.
///     let _ = KBD_STATE.with(|kbd| kbd.bytes_seen += 1);
/// }
///
/// assert_eq!(KBD_STATE.with(|_| ()), Err(StateError::Empty)); // not initialised yet
/// assert!(KBD_STATE.put(Keyboard { bytes_seen: 0 }).is_ok());
/// KBD_BH.schedule();
/// EXEC.run(Budget::items(4)).unwrap();
/// assert_eq!(KBD_STATE.with(|kbd| kbd.bytes_seen), Ok(1));
/// // Nested use is refused, never a second `&mut`:
/// assert_eq!(KBD_STATE.with(|_| KBD_STATE.with(|_| ())), Ok(Err(StateError::Lent)));
/// ```
///
/// A `T` that is not `Send` cannot be shared through a `static`:
///
/// ```compile_fail,E0277
/// use irqkit_defer::State;
/// static NOT_SEND: State<std::rc::Rc<u8>> = State::new();
/// ```
pub struct State<T> {
    slot: Mutex<Cell<Slot<T>>>,
}

#[derive(Default)]
enum Slot<T> {
    #[default]
    Empty,
    Here(T),
    Lent,
}

/// Why [`State::with`] or [`State::put`] could not do what was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StateError {
    /// No value was put in place yet (or it was taken out for good).
    Empty,
    /// The value is lent out to a running [`State::with`] (a nested call, or another context).
    Lent,
    /// [`State::put`] found a value already in place.
    Occupied,
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StateError::Empty => "bottom-half state not initialised",
            StateError::Lent => "bottom-half state is in use by a running closure",
            StateError::Occupied => "bottom-half state is already initialised",
        })
    }
}

impl core::error::Error for StateError {}

impl<T> State<T> {
    /// An empty state, for a `static`.
    pub const fn new() -> Self {
        State {
            slot: Mutex::new(Cell::new(Slot::Empty)),
        }
    }

    /// Puts `value` in place (at initialisation, before the first run).
    ///
    /// # Errors
    ///
    /// [`StateError::Occupied`] or [`StateError::Lent`] when a value is already there; the
    /// value is handed back beside the error and the state is left as it was.
    pub fn put(&self, value: T) -> Result<(), (StateError, T)> {
        critical_section::with(|cs| {
            let cell = self.slot.borrow(cs);
            match cell.take() {
                Slot::Empty => {
                    cell.set(Slot::Here(value));
                    Ok(())
                }
                Slot::Here(current) => {
                    cell.set(Slot::Here(current));
                    Err((StateError::Occupied, value))
                }
                Slot::Lent => {
                    cell.set(Slot::Lent);
                    Err((StateError::Lent, value))
                }
            }
        })
    }

    /// Takes the value out for good (at shutdown), leaving the state empty.
    ///
    /// # Errors
    ///
    /// [`StateError::Empty`], or [`StateError::Lent`] while a closure holds it.
    pub fn take(&self) -> Result<T, StateError> {
        critical_section::with(|cs| {
            let cell = self.slot.borrow(cs);
            match cell.take() {
                Slot::Here(value) => Ok(value),
                Slot::Empty => Err(StateError::Empty),
                Slot::Lent => {
                    cell.set(Slot::Lent);
                    Err(StateError::Lent)
                }
            }
        })
    }

    /// Runs `f` on the value, outside any critical section, and puts the value back afterwards
    /// (also when `f` panics).
    ///
    /// # Errors
    ///
    /// [`StateError::Empty`] before [`put`](Self::put); [`StateError::Lent`] while another
    /// `with` holds the value. `f` does not run then.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R, StateError> {
        let value = critical_section::with(|cs| {
            let cell = self.slot.borrow(cs);
            match cell.replace(Slot::Lent) {
                Slot::Here(value) => Ok(value),
                other => {
                    let error = match other {
                        Slot::Empty => StateError::Empty,
                        _ => StateError::Lent,
                    };
                    cell.set(other);
                    Err(error)
                }
            }
        })?;
        let mut lent = Lent {
            state: self,
            value: Some(value),
        };
        let value = lent.value.as_mut().ok_or(StateError::Empty)?;
        Ok(f(value))
    }
}

impl<T> Default for State<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for State<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = critical_section::with(|cs| {
            let cell = self.slot.borrow(cs);
            let slot = cell.take();
            let what = match slot {
                Slot::Empty => "empty",
                Slot::Here(_) => "here",
                Slot::Lent => "lent",
            };
            cell.set(slot);
            what
        });
        f.debug_struct("State").field("value", &what).finish()
    }
}

/// The value while a closure has it: put back on drop, which also runs on unwinding.
struct Lent<'a, T> {
    state: &'a State<T>,
    value: Option<T>,
}

impl<T> Drop for Lent<'_, T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            critical_section::with(|cs| self.state.slot.borrow(cs).set(Slot::Here(value)));
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    #[test]
    fn put_with_take() {
        let state = State::new();
        assert_eq!(state.with(|v: &mut u32| *v), Err(StateError::Empty));
        assert_eq!(state.take(), Err(StateError::Empty));
        state.put(1).unwrap();
        assert_eq!(state.put(2), Err((StateError::Occupied, 2)));
        assert_eq!(state.with(|v| core::mem::replace(v, 5)), Ok(1));
        assert_eq!(state.take(), Ok(5));
        assert_eq!(state.with(|v| *v), Err(StateError::Empty));
    }

    #[test]
    fn lent_value_is_never_handed_out_twice() {
        let state = State::new();
        state.put(std::vec![1u8]).unwrap();
        let inner = state.with(|outer| {
            outer.push(2);
            (
                state.with(|v| v.len()),
                state.take().err(),
                state.put(std::vec![]).err().map(|e| e.0),
            )
        });
        assert_eq!(
            inner,
            Ok((
                Err(StateError::Lent),
                Some(StateError::Lent),
                Some(StateError::Lent)
            ))
        );
        assert_eq!(state.with(|v| v.clone()), Ok(std::vec![1, 2]));
    }

    #[test]
    fn a_panicking_closure_gives_the_value_back() {
        let state = State::new();
        state.put(std::string::String::from("kept")).unwrap();
        let result = catch_unwind(AssertUnwindSafe(|| {
            state.with(|s| {
                s.push('!');
                panic!("bottom half panicked");
            })
        }));
        assert!(result.is_err());
        assert_eq!(state.with(|s| s.clone()).as_deref(), Ok("kept!"));
    }

    #[test]
    fn forgetting_nothing_leaks_the_slot() {
        // The guard is internal: a caller cannot forget it, and `with` always ends with the
        // value back in place or dropped with the state.
        let state = State::new();
        state.put(std::rc::Rc::new(3)).unwrap();
        let rc = state.with(|v| std::rc::Rc::clone(v)).unwrap();
        assert_eq!(std::rc::Rc::strong_count(&rc), 2);
        drop(state);
        assert_eq!(std::rc::Rc::strong_count(&rc), 1);
    }

    #[test]
    fn debug_shows_where_the_value_is() {
        let state = State::new();
        assert!(std::format!("{state:?}").contains("empty"));
        state.put(0u8).unwrap();
        assert!(std::format!("{state:?}").contains("here"));
        state
            .with(|_| assert!(std::format!("{state:?}").contains("lent")))
            .unwrap();
    }
}
