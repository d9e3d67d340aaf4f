//! The progress of a long command (`import`, `bench-data`, `sync`) on
//! standard error: a bar on a terminal, a plain line every few seconds
//! otherwise (a log file or a CI job keeps those), nothing with `--quiet`.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use concord_persistence::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// How often a plain progress line is written.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// Shows a command's progress the way its standard error calls for.
pub struct Reporter {
    shown: Shown,
    state: Mutex<State>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    Bar,
    Lines,
    Nothing,
}

/// The stage under way.
struct State {
    bar: Option<ProgressBar>,
    name: String,
    total: Option<u64>,
    done: u64,
    started: Instant,
    written: Instant,
}

impl Reporter {
    pub fn new(quiet: bool) -> Self {
        let shown = if quiet {
            Shown::Nothing
        } else if std::io::stderr().is_terminal() {
            Shown::Bar
        } else {
            Shown::Lines
        };
        let now = Instant::now();
        Self {
            shown,
            state: Mutex::new(State {
                bar: None,
                name: String::new(),
                total: None,
                done: 0,
                started: now,
                written: now,
            }),
        }
    }

    /// Ends the stage under way, before the command prints its result.
    pub fn finish(&self) {
        let mut state = self.lock();
        self.end_stage(&mut state);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while reporting leaves nothing half-done worth refusing.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn end_stage(&self, state: &mut State) {
        if let Some(bar) = state.bar.take() {
            bar.finish();
        }
        if self.shown == Shown::Lines && !state.name.is_empty() {
            eprintln!("{}", line(state, true));
        }
        state.name.clear();
    }
}

impl Progress for Reporter {
    fn stage(&self, name: &str, total: Option<u64>) {
        let mut state = self.lock();
        self.end_stage(&mut state);
        let now = Instant::now();
        state.name = name.to_owned();
        state.total = total;
        state.done = 0;
        state.started = now;
        state.written = now;
        match self.shown {
            Shown::Bar => {
                let (bar, template) = match total {
                    Some(total) => (
                        ProgressBar::new(total),
                        "{msg:>9} [{bar:30}] {human_pos}/{human_len} records, {per_sec}, {eta} left",
                    ),
                    None => (
                        ProgressBar::new_spinner(),
                        "{msg:>9} {spinner} {human_pos} done, {per_sec}, {elapsed}",
                    ),
                };
                let style = ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
                bar.set_style(style);
                bar.set_message(name.to_owned());
                bar.enable_steady_tick(Duration::from_millis(200));
                state.bar = Some(bar);
            }
            Shown::Lines => eprintln!("{name}..."),
            Shown::Nothing => {}
        }
    }

    fn advanced(&self, done: u64) {
        let mut state = self.lock();
        state.done = done;
        match self.shown {
            Shown::Bar => {
                if let Some(bar) = &state.bar {
                    bar.set_position(done);
                }
            }
            Shown::Lines if state.written.elapsed() >= LINE_EVERY => {
                state.written = Instant::now();
                eprintln!("{}", line(&state, false));
            }
            Shown::Lines | Shown::Nothing => {}
        }
    }
}

/// A plain progress line: `writing: 120000/535000 records, 24000/s, 17 s left`.
fn line(state: &State, end: bool) -> String {
    let seconds = state.started.elapsed().as_secs_f64();
    let rate = if seconds > 0.0 {
        state.done as f64 / seconds
    } else {
        0.0
    };
    let name = &state.name;
    let done = state.done;
    match state.total {
        _ if end && done == 0 => format!("{name}: {seconds:.1} s"),
        _ if end => format!("{name}: {done} done in {seconds:.1} s, {rate:.0}/s"),
        Some(total) if rate > 0.0 => {
            let left = total.saturating_sub(done) as f64 / rate;
            format!("{name}: {done}/{total} records, {rate:.0}/s, {left:.0} s left")
        }
        Some(total) => format!("{name}: {done}/{total} records"),
        None => format!("{name}: {done} done, {rate:.0}/s"),
    }
}
