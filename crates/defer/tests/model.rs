//! The executor against a plain sequential model, two ways:
//!
//! * proptest: random programs of schedule / cancel / disable / enable / run-with-budget and
//!   the lean `Runner::run_items`, over bottom halves and async tasks (with wake lanes, or
//!   through the queues when the lanes are all taken or the task is urgent), with handlers and
//!   polls that schedule other items, must give exactly the model's run trace, return values
//!   and counters;
//! * a deterministic interrupt injector: an "interrupt" (a burst of schedules and cancels) is
//!   fired at every step of a program in turn, where a step is each point at which the executor
//!   reads its clock: inside `schedule` (or a lane wake) between reading the state and
//!   publishing it, and inside `run` between taking an item and calling its handler. The
//!   model has the same points, so for every preemption point the traces and counts must
//!   match exactly.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use irqkit_defer::{Budget, EnableError, Executor, Priority, TaskSlot, Work};
use proptest::prelude::*;

/// Bottom halves: entities `0..ITEMS`.
const ITEMS: usize = 5;
/// Async tasks (never finishing): entities `ITEMS..ENTITIES`.
const TASKS: usize = 3;
const ENTITIES: usize = ITEMS + TASKS;
/// How many task slots get a wake lane (the first normal ones spawned on an executor).
const LANES: usize = 32;

fn is_task(i: usize) -> bool {
    i >= ITEMS
}

#[derive(Clone, Copy, Debug)]
enum Op {
    /// `Work::schedule` of a bottom half, `TaskSlot::wake` of a task.
    Schedule(usize),
    Cancel(usize),
    Disable(usize),
    Enable(usize),
    Run(u32),
    /// `claim()` then `Runner::run_items(max)`.
    RunItems(u32),
}

#[derive(Clone, Debug)]
struct Program {
    urgent: [bool; ENTITIES],
    /// What each item's handler (or task's poll) schedules when it runs.
    then: [Option<usize>; ENTITIES],
    /// Whether other tasks took every lane first, so that normal tasks are queued too.
    lanes_full: bool,
    ops: Vec<Op>,
}

/// Every observable outcome, in order.
type Log = Vec<String>;

// ---------------------------------------------------------------- the model

#[derive(Clone, Copy, Default)]
struct ModelItem {
    pending: bool,
    queued: bool,
    depth: u32,
    runs: u32,
}

struct Model {
    items: [ModelItem; ENTITIES],
    /// Each entity's lane (normal tasks, while lanes are free), in spawn order.
    lane: [Option<usize>; ENTITIES],
    /// Urgent queue (FIFO).
    urgent_queue: VecDeque<usize>,
    /// Normal priority: the round in progress (its queued items, then its lanes by number),
    /// and what was queued or woken since it started.
    ready: VecDeque<usize>,
    round: BTreeSet<usize>,
    incoming: VecDeque<usize>,
    woken: BTreeSet<usize>,
    urgent: [bool; ENTITIES],
    then: [Option<usize>; ENTITIES],
    step: u32,
    inject: Option<(u32, Vec<Op>)>,
    log: Log,
    coalesced: u32,
    cancelled: u32,
    runs: u32,
    skipped: u32,
}

impl Model {
    fn new(program: &Program, inject: Option<(u32, Vec<Op>)>) -> Self {
        let mut lane = [None; ENTITIES];
        let mut next_lane = if program.lanes_full { LANES } else { 0 };
        for (i, lane) in lane.iter_mut().enumerate() {
            if is_task(i) && !program.urgent[i] && next_lane < LANES {
                *lane = Some(next_lane);
                next_lane += 1;
            }
        }
        Self {
            items: [ModelItem::default(); ENTITIES],
            lane,
            urgent_queue: VecDeque::new(),
            ready: VecDeque::new(),
            round: BTreeSet::new(),
            incoming: VecDeque::new(),
            woken: BTreeSet::new(),
            urgent: program.urgent,
            then: program.then,
            step: 0,
            inject,
            log: Vec::new(),
            coalesced: 0,
            cancelled: 0,
            runs: 0,
            skipped: 0,
        }
    }

    fn hook(&mut self) {
        self.step += 1;
        if let Some((at, _)) = &self.inject {
            if *at == self.step {
                let (_, ops) = self.inject.take().unwrap();
                self.log.push("irq{".into());
                for op in ops {
                    self.op(op);
                }
                self.log.push("}".into());
            }
        }
    }

    fn enqueue(&mut self, i: usize) {
        if self.urgent[i] {
            self.urgent_queue.push_back(i);
        } else {
            self.incoming.push_back(i);
        }
    }

    fn schedule(&mut self, i: usize) -> bool {
        if let Some(lane) = self.lane[i] {
            if !self.woken.contains(&lane) {
                self.hook(); // the clock read before the bit is set
            }
            if !self.woken.insert(lane) {
                self.coalesced += 1;
                return false;
            }
            return true;
        }
        if !self.items[i].pending {
            self.hook(); // the clock read before publishing
        }
        let item = &mut self.items[i];
        if item.pending {
            self.coalesced += 1;
            return false;
        }
        item.pending = true;
        if !item.queued && item.depth == 0 {
            item.queued = true;
            self.enqueue(i);
        }
        true
    }

    fn pending(&self, i: usize) -> bool {
        match self.lane[i] {
            Some(lane) => self.woken.contains(&lane) || self.round.contains(&lane),
            None => self.items[i].pending,
        }
    }

    fn has_work(&self) -> bool {
        !(self.urgent_queue.is_empty()
            && self.ready.is_empty()
            && self.incoming.is_empty()
            && self.round.is_empty()
            && self.woken.is_empty())
    }

    /// The next entity to take: (entity, whether it came through a lane).
    fn pop(&mut self) -> Option<(usize, bool)> {
        if let Some(i) = self.urgent_queue.pop_front() {
            return Some((i, false));
        }
        loop {
            if let Some(i) = self.ready.pop_front() {
                return Some((i, false));
            }
            if let Some(lane) = self.round.pop_first() {
                let i = self.lane.iter().position(|&l| l == Some(lane)).unwrap();
                return Some((i, true));
            }
            if self.incoming.is_empty() && self.woken.is_empty() {
                return None;
            }
            self.ready = std::mem::take(&mut self.incoming);
            self.round = std::mem::take(&mut self.woken);
        }
    }

    fn op(&mut self, op: Op) {
        let entry = match op {
            Op::Schedule(i) => format!("S{i}={}", self.schedule(i)),
            Op::Cancel(i) => {
                let was = self.items[i].pending;
                self.items[i].pending = false;
                self.cancelled += u32::from(was);
                format!("C{i}={was}")
            }
            Op::Disable(i) => {
                self.items[i].depth += 1;
                format!("D{i}={}", self.items[i].depth)
            }
            Op::Enable(i) => {
                let item = &mut self.items[i];
                let result = if item.depth == 0 {
                    Err(EnableError::NotDisabled)
                } else {
                    item.depth -= 1;
                    let requeue = item.depth == 0 && item.pending && !item.queued;
                    item.queued |= requeue;
                    let depth = item.depth;
                    if requeue {
                        self.enqueue(i);
                    }
                    Ok(depth)
                };
                format!("E{i}={result:?}")
            }
            Op::Run(budget) => {
                let (ran, skipped) = self.run(budget);
                let more = self.has_work();
                format!("R ran={ran} skipped={skipped} more={more}")
            }
            Op::RunItems(max) => format!("RI ran={}", self.run(max).0),
        };
        self.log.push(entry);
    }

    /// Runs up to `budget` items; returns (ran, skipped).
    fn run(&mut self, budget: u32) -> (u32, u32) {
        let (mut ran, mut skipped) = (0, 0);
        while ran < budget {
            let Some((i, lane)) = self.pop() else {
                break;
            };
            if !lane {
                let item = &mut self.items[i];
                item.queued = false;
                if !item.pending || item.depth > 0 {
                    skipped += 1;
                    self.skipped += 1;
                    continue;
                }
                item.pending = false;
            }
            self.hook(); // the clock read before the handler
            self.log.push(format!("run{i}"));
            if let Some(next) = self.then[i] {
                let newly = self.schedule(next);
                self.log.push(format!("h{i}:S{next}={newly}"));
            }
            self.items[i].runs += 1;
            self.runs += 1;
            ran += 1;
        }
        (ran, skipped)
    }

    fn finish(mut self) -> Log {
        let runs: Vec<u32> = self.items.iter().map(|i| i.runs).collect();
        let pending: Vec<bool> = (0..ENTITIES).map(|i| self.pending(i)).collect();
        let mut summary = String::new();
        write!(
            summary,
            "runs={runs:?} pending={pending:?} scheduled={} coalesced={} cancelled={} runs={} skipped={}",
            self.runs + self.cancelled, self.coalesced, self.cancelled, self.runs, self.skipped
        )
        .unwrap();
        self.log.push(summary);
        self.log
    }
}

// ---------------------------------------------------------------- the real thing

thread_local! {
    static WORKS: RefCell<Vec<&'static Work>> = const { RefCell::new(Vec::new()) };
    static SLOTS: RefCell<Vec<&'static TaskSlot<64>>> = const { RefCell::new(Vec::new()) };
    static THEN: Cell<[Option<usize>; ENTITIES]> = const { Cell::new([None; ENTITIES]) };
    static STEP: Cell<u32> = const { Cell::new(0) };
    static INJECT: RefCell<Option<(u32, Vec<Op>)>> = const { RefCell::new(None) };
    static LOG: RefCell<Log> = const { RefCell::new(Vec::new()) };
}

fn log(entry: String) {
    LOG.with(|l| l.borrow_mut().push(entry));
}

fn work(i: usize) -> &'static Work {
    WORKS.with(|w| w.borrow()[i])
}

fn slot(i: usize) -> &'static TaskSlot<64> {
    SLOTS.with(|s| s.borrow()[i - ITEMS])
}

/// `Work::schedule` of a bottom half, `TaskSlot::wake` of a task.
fn schedule(i: usize) -> bool {
    if is_task(i) {
        slot(i).wake()
    } else {
        work(i).schedule()
    }
}

/// The model's tasks: each poll is a run of entity `i`; never finishes.
struct ModelTask(usize);

impl Future for ModelTask {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        on_run(self.0);
        Poll::Pending
    }
}

/// The executor's clock: each read is a step at which the "interrupt" may fire.
fn clock() -> u32 {
    let step = STEP.with(|s| {
        s.set(s.get() + 1);
        s.get()
    });
    let due = INJECT.with(|inject| {
        let mut inject = inject.borrow_mut();
        match &*inject {
            Some((at, _)) if *at == step => inject.take().map(|(_, ops)| ops),
            _ => None,
        }
    });
    if let Some(ops) = due {
        log("irq{".into());
        for op in ops {
            real_op(op);
        }
        log("}".into());
    }
    step
}

fn on_run(i: usize) {
    log(format!("run{i}"));
    if let Some(next) = THEN.with(Cell::get)[i] {
        let newly = schedule(next);
        log(format!("h{i}:S{next}={newly}"));
    }
}

fn h0() {
    on_run(0)
}
fn h1() {
    on_run(1)
}
fn h2() {
    on_run(2)
}
fn h3() {
    on_run(3)
}
fn h4() {
    on_run(4)
}
const HANDLERS: [fn(); ITEMS] = [h0, h1, h2, h3, h4];

fn real_op(op: Op) {
    let entry = match op {
        Op::Schedule(i) => format!("S{i}={}", schedule(i)),
        Op::Cancel(i) => format!("C{i}={}", work(i).cancel()),
        Op::Disable(i) => format!("D{i}={}", work(i).disable().unwrap()),
        Op::Enable(i) => format!("E{i}={:?}", work(i).enable()),
        Op::Run(budget) => {
            let report = work(0).executor().run(Budget::items(budget)).unwrap();
            format!(
                "R ran={} skipped={} more={}",
                report.ran, report.skipped, report.more_work
            )
        }
        Op::RunItems(max) => {
            let ran = work(0).executor().claim().unwrap().run_items(max);
            format!("RI ran={ran}")
        }
    };
    log(entry);
}

/// Every leaked executor and item stays reachable from here, so Miri's leak check (which
/// ignores memory reachable from statics) accepts the `'static` items each case needs.
type Leaked = (
    &'static Executor,
    Vec<&'static Work>,
    Vec<&'static TaskSlot<64>>,
    Vec<&'static TaskSlot<8>>,
);
static LEAKED: std::sync::Mutex<Vec<Leaked>> = std::sync::Mutex::new(Vec::new());

fn priority(urgent: bool) -> Priority {
    if urgent {
        Priority::Urgent
    } else {
        Priority::Normal
    }
}

fn run_real(program: &Program, inject: Option<(u32, Vec<Op>)>) -> (Log, u32) {
    let executor: &'static Executor = Box::leak(Box::new(Executor::new().with_clock(clock)));
    // No interrupt during the set-up (one left over from the last case would fire there).
    INJECT.with(|i| *i.borrow_mut() = None);
    let works: Vec<&'static Work> = (0..ITEMS)
        .map(|i| {
            &*Box::leak(Box::new(
                Work::new(executor, HANDLERS[i]).with_priority(priority(program.urgent[i])),
            ))
        })
        .collect();
    WORKS.with(|w| *w.borrow_mut() = works.clone());
    // Tasks that take every lane first, and finish at their first poll.
    let fillers: Vec<&'static TaskSlot<8>> = if program.lanes_full {
        (0..LANES)
            .map(|_| &*Box::leak(Box::new(TaskSlot::new(executor))))
            .collect()
    } else {
        Vec::new()
    };
    for filler in &fillers {
        filler.spawn(async {}).unwrap();
    }
    let slots: Vec<&'static TaskSlot<64>> = (ITEMS..ENTITIES)
        .map(|i| {
            &*Box::leak(Box::new(
                TaskSlot::new(executor).with_priority(priority(program.urgent[i])),
            ))
        })
        .collect();
    SLOTS.with(|s| *s.borrow_mut() = slots.clone());
    LEAKED
        .lock()
        .unwrap()
        .push((executor, works.clone(), slots.clone(), fillers));
    // Spawned with no handler actions set, and polled once: the program starts from idle.
    THEN.with(|t| t.set([None; ENTITIES]));
    for (i, slot) in (ITEMS..ENTITIES).zip(&slots) {
        slot.spawn(ModelTask(i)).unwrap();
    }
    executor.run_until_idle().unwrap();
    let before = executor.stats();
    THEN.with(|t| t.set(program.then));
    STEP.with(|s| s.set(0));
    INJECT.with(|i| *i.borrow_mut() = inject);
    LOG.with(|l| l.borrow_mut().clear());
    for &op in &program.ops {
        real_op(op);
    }
    let runs: Vec<u32> = works
        .iter()
        .map(|w| w.runs())
        .chain(slots.iter().map(|s| s.polls() - 1))
        .collect();
    let pending: Vec<bool> = works
        .iter()
        .map(|w| w.is_pending())
        .chain(slots.iter().map(|s| s.is_scheduled()))
        .collect();
    let stats = executor.stats();
    log(format!(
        "runs={runs:?} pending={pending:?} scheduled={} coalesced={} cancelled={} runs={} skipped={}",
        stats.scheduled - before.scheduled,
        stats.coalesced - before.coalesced,
        stats.cancelled - before.cancelled,
        stats.runs - before.runs,
        stats.skipped - before.skipped
    ));
    let steps = STEP.with(Cell::get);
    (LOG.with(|l| l.take()), steps)
}

fn run_model(program: &Program, inject: Option<(u32, Vec<Op>)>) -> Log {
    let mut model = Model::new(program, inject);
    for &op in &program.ops {
        model.op(op);
    }
    model.finish()
}

// ---------------------------------------------------------------- strategies

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..ITEMS).prop_map(Op::Schedule),
        4 => (ITEMS..ENTITIES).prop_map(Op::Schedule),
        2 => (0..ITEMS).prop_map(Op::Cancel),
        1 => (0..ITEMS).prop_map(Op::Disable),
        1 => (0..ITEMS).prop_map(Op::Enable),
        3 => (0u32..4).prop_map(Op::Run),
        2 => (0u32..4).prop_map(Op::RunItems),
    ]
}

fn program_strategy() -> impl Strategy<Value = Program> {
    (
        proptest::array::uniform8(proptest::bool::weighted(0.3)),
        proptest::array::uniform8(proptest::option::weighted(0.3, 0..ENTITIES)),
        // Under Miri, never: 32 more spawns per run of the program are too slow there (the
        // queued-task path runs under Miri in `tests/trace.rs`).
        proptest::bool::weighted(if cfg!(miri) { 0.0 } else { 0.25 }),
        // Under Miri, shorter programs: the interrupt-at-every-step property runs the program
        // once per step, so its cost grows with the square of the length.
        proptest::collection::vec(op_strategy(), 0..if cfg!(miri) { 10 } else { 24 }),
    )
        .prop_map(|(urgent, then, lanes_full, mut ops)| {
            // Drain at the end (bounded: handlers may reschedule each other forever).
            ops.push(Op::Run(64));
            Program {
                urgent,
                then,
                lanes_full,
                ops,
            }
        })
}

fn irq_strategy() -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(
        prop_oneof![
            3 => (0..ENTITIES).prop_map(Op::Schedule),
            1 => (0..ITEMS).prop_map(Op::Cancel),
        ],
        1..4,
    )
}

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(if cfg!(miri) { 3 } else { 256 });
    if cfg!(miri) {
        // Miri's isolation has no file system for the regression file.
        config.failure_persistence = None;
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn matches_the_model(program in program_strategy()) {
        let (real, _) = run_real(&program, None);
        prop_assert_eq!(real, run_model(&program, None));
    }

    #[test]
    fn matches_the_model_with_an_interrupt_at_every_step(
        program in program_strategy(),
        irq in irq_strategy(),
    ) {
        let (_, steps) = run_real(&program, None);
        // +2: an injection point beyond the last step must simply never fire.
        for at in 1..=steps + 2 {
            let inject = Some((at, irq.clone()));
            let (real, _) = run_real(&program, inject.clone());
            let model = run_model(&program, inject);
            prop_assert_eq!(real, model, "interrupt at step {}", at);
        }
    }
}

/// A hand-checked case of the injector: the interrupt reschedules A at each point of
/// "schedule A, schedule B, run". Before A's run starts it coalesces; after, A runs twice.
#[test]
fn interrupt_rescheduling_a_at_each_step() {
    let program = Program {
        urgent: [false; ENTITIES],
        then: [None; ENTITIES],
        lanes_full: false,
        ops: vec![Op::Schedule(0), Op::Schedule(1), Op::Run(u32::MAX)],
    };
    let irq = vec![Op::Schedule(0)];
    let expected_runs_of_a = [
        // step 1: inside `schedule(A)`, before it publishes: the interrupt's schedule wins
        // (true) and the main line's coalesces; A runs once.
        (1, "S0=true", 1),
        // step 2: inside `schedule(B)`: A is pending, coalesced.
        (2, "S0=false", 1),
        // step 3: after A is taken for its run (pending cleared): one more run.
        (3, "S0=true", 2),
        // step 4: during B's run: A runs again.
        (4, "S0=true", 2),
    ];
    for (at, irq_result, runs) in expected_runs_of_a {
        let (real, _) = run_real(&program, Some((at, irq.clone())));
        let pos = real
            .iter()
            .position(|e| e == "irq{")
            .expect("interrupt fired");
        if at == 1 {
            assert_eq!(
                real[pos + 3],
                "S0=false",
                "the preempted schedule coalesces: {real:?}"
            );
        }
        assert_eq!(real[pos + 1], irq_result, "step {at}: {real:?}");
        let summary = real.last().unwrap();
        assert!(
            summary.starts_with(&format!("runs=[{runs}, 1, 0, 0, 0, 0, 0, 0]")),
            "step {at}: {summary}"
        );
        assert_eq!(real, run_model(&program, Some((at, irq.clone()))));
    }
}
