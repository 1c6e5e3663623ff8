# Sourced by the bench scripts: the binary to run, and perf around one wrk run.
# PROFILE=file.data builds the `profiling` profile (release + line tables) and records the server
# with DWARF call graphs while `profile_start`…`profile_wait` bracket a run; `perf report -i` reads it.
# BIN=path runs that binary instead of building (two builds compared in turns on one machine).

build_bin() {
  if [ -n "${BIN:-}" ]; then
    # A binary given (BIN=…): to compare two builds in turns on one machine.
    return
  elif [ -n "${PROFILE:-}" ]; then
    cargo build --profile profiling -q
    BIN=$PWD/target/profiling/borderdesk
  else
    cargo build --release -q
    BIN=$PWD/target/release/borderdesk
  fi
}

profile_start() { # server pid, seconds
  if [ -n "${PROFILE:-}" ]; then
    perf record -q -F 499 --call-graph dwarf,16384 -p "$1" -o "$PROFILE" -- sleep "$2" 2>/dev/null &
    PERF=$!
  fi
}

profile_wait() {
  if [ -n "${PROFILE:-}" ]; then wait "$PERF"; fi
}

# CPU time, in clock ticks, of the server ($PID), or of its threads of one name: the cost per
# request is a steadier figure than the rate on a shared machine, whose neighbours move it.
# The server's total is the process's own count, which keeps the time of threads that ended
# (idle pool threads are let go during a run); a thread that ends while being read counts nothing.
ticks() { # [thread name]
  if [ -z "${1:-}" ]; then awk '{print $14 + $15}' "/proc/$PID/stat"; return; fi
  local sum=0 t n
  for t in /proc/$PID/task/*; do
    if [ "$(cat "$t/comm" 2>/dev/null)" = "$1" ]; then
      n=$(awk '{print $14 + $15}' "$t/stat" 2>/dev/null) || n=0
      sum=$(( sum + ${n:-0} ))
    fi
  done
  echo $sum
}
