//! The executor against a plain sequential model (a `VecDeque` per priority), two ways:
//!
//! * proptest: random programs of schedule / cancel / disable / enable / run-with-budget and
//!   the lean `Runner::run_items`, with handlers that schedule other items, must give exactly
//!   the model's run trace, return values and counters;
//! * a deterministic interrupt injector: an "interrupt" (a burst of schedules and cancels) is
//!   fired at every step of a program in turn, where a step is each point at which the executor
//!   reads its clock: inside `schedule` between reading the state and publishing it, and inside
//!   `run` between taking an item and calling its handler. The model has the same points, so
//!   for every preemption point the traces and counts must match exactly.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt::Write as _;

use irqkit_defer::{Budget, EnableError, Executor, Priority, Work};
use proptest::prelude::*;

const ITEMS: usize = 5;

#[derive(Clone, Copy, Debug)]
enum Op {
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
    urgent: [bool; ITEMS],
    /// What each item's handler schedules when it runs.
    then: [Option<usize>; ITEMS],
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
    items: [ModelItem; ITEMS],
    queues: [VecDeque<usize>; 2],
    urgent: [bool; ITEMS],
    then: [Option<usize>; ITEMS],
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
        Self {
            items: [ModelItem::default(); ITEMS],
            queues: [VecDeque::new(), VecDeque::new()],
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

    fn schedule(&mut self, i: usize) -> bool {
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
            self.queues[usize::from(!self.urgent[i])].push_back(i);
        }
        true
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
                    if item.depth == 0 && item.pending && !item.queued {
                        item.queued = true;
                        self.queues[usize::from(!self.urgent[i])].push_back(i);
                    }
                    Ok(item.depth)
                };
                format!("E{i}={result:?}")
            }
            Op::Run(budget) => {
                let (ran, skipped) = self.run(budget);
                let more = self.queues.iter().any(|q| !q.is_empty());
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
            let Some(i) = self.queues[0]
                .pop_front()
                .or_else(|| self.queues[1].pop_front())
            else {
                break;
            };
            let item = &mut self.items[i];
            item.queued = false;
            if !item.pending || item.depth > 0 {
                skipped += 1;
                self.skipped += 1;
                continue;
            }
            item.pending = false;
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
        let pending: Vec<bool> = self.items.iter().map(|i| i.pending).collect();
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
    static THEN: Cell<[Option<usize>; ITEMS]> = const { Cell::new([None; ITEMS]) };
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
        let newly = work(next).schedule();
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
        Op::Schedule(i) => format!("S{i}={}", work(i).schedule()),
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
static LEAKED: std::sync::Mutex<Vec<(&'static Executor, Vec<&'static Work>)>> =
    std::sync::Mutex::new(Vec::new());

fn run_real(program: &Program, inject: Option<(u32, Vec<Op>)>) -> (Log, u32) {
    let executor: &'static Executor = Box::leak(Box::new(Executor::new().with_clock(clock)));
    let works: Vec<&'static Work> = (0..ITEMS)
        .map(|i| {
            let priority = if program.urgent[i] {
                Priority::Urgent
            } else {
                Priority::Normal
            };
            &*Box::leak(Box::new(
                Work::new(executor, HANDLERS[i]).with_priority(priority),
            ))
        })
        .collect();
    WORKS.with(|w| *w.borrow_mut() = works.clone());
    LEAKED.lock().unwrap().push((executor, works.clone()));
    THEN.with(|t| t.set(program.then));
    STEP.with(|s| s.set(0));
    INJECT.with(|i| *i.borrow_mut() = inject);
    LOG.with(|l| l.borrow_mut().clear());
    for &op in &program.ops {
        real_op(op);
    }
    let runs: Vec<u32> = works.iter().map(|w| w.runs()).collect();
    let pending: Vec<bool> = works.iter().map(|w| w.is_pending()).collect();
    let stats = executor.stats();
    log(format!(
        "runs={runs:?} pending={pending:?} scheduled={} coalesced={} cancelled={} runs={} skipped={}",
        stats.scheduled, stats.coalesced, stats.cancelled, stats.runs, stats.skipped
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
        2 => (0..ITEMS).prop_map(Op::Cancel),
        1 => (0..ITEMS).prop_map(Op::Disable),
        1 => (0..ITEMS).prop_map(Op::Enable),
        3 => (0u32..4).prop_map(Op::Run),
        2 => (0u32..4).prop_map(Op::RunItems),
    ]
}

fn program_strategy() -> impl Strategy<Value = Program> {
    (
        proptest::array::uniform5(any::<bool>()),
        proptest::array::uniform5(proptest::option::weighted(0.3, 0..ITEMS)),
        // Under Miri, shorter programs: the interrupt-at-every-step property runs the program
        // once per step, so its cost grows with the square of the length.
        proptest::collection::vec(op_strategy(), 0..if cfg!(miri) { 10 } else { 24 }),
    )
        .prop_map(|(urgent, then, mut ops)| {
            // Drain at the end (bounded: handlers may reschedule each other forever).
            ops.push(Op::Run(64));
            Program { urgent, then, ops }
        })
}

fn irq_strategy() -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(
        prop_oneof![
            3 => (0..ITEMS).prop_map(Op::Schedule),
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
        urgent: [false; ITEMS],
        then: [None; ITEMS],
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
            summary.starts_with(&format!("runs=[{runs}, 1, 0, 0, 0]")),
            "step {at}: {summary}"
        );
        assert_eq!(real, run_model(&program, Some((at, irq.clone()))));
    }
}
