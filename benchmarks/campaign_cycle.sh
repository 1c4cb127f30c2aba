#!/usr/bin/env bash
# A whole win-over campaign cycle on a generated 5,000-subscriber operator, in the current folder:
# month 1 run, create + select + assign, the field simulated from the truth, months 2 and 3 run,
# feedback, evaluation. Prints the steps' figures (README "Win-over campaigns" quotes them).
#   mkdir /tmp/cycle && cd /tmp/cycle && bash /path/to/groupscope/benchmarks/campaign_cycle.sh
set -euo pipefail
G=${GROUPSCOPE:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/groupscope}
$G generate --out landing --months 2026-09,2026-10,2026-11 --subscribers 5000 --seed 7 > gen.txt
$G run --landing landing --period 2026-09 > run09.txt
$G campaign create --name "Q4 win-back" --period 2026-09 --criterion on_net=false --offer-cost 100 --budget 40000 --capacity 60 --holdout 0.2 --seed 1
$G campaign select CMP-2026-09-001
$G campaign assign CMP-2026-09-001
$G campaign show CMP-2026-09-001 --targets-out targets.csv
$G generate-feedback --landing landing --targets targets.csv --months 2026-10,2026-11
$G run --landing landing --period 2026-10 > run10.txt
$G run --landing landing --period 2026-11 > run11.txt
$G campaign feedback --landing landing --period 2026-10
$G campaign evaluate CMP-2026-09-001
