#!/usr/bin/env bash
# The measurements behind the README's "Steps, regularisers and augmentations" figures.
#
#   GANFRAME_DATA=/path/to/data bash scripts/step_plugins_quality.sh OUT [SEEDS...]
#
# 1. wgan-gp on dcgan, n-critic 5 (the loss's default) against 1:1 (--step two-phase) at equal wall
#    time: both runs start together (same machine load) and get SIGTERM after WALL seconds, which
#    stops each cleanly after its current step with a checkpoint.
# 2. diffaugment on MNIST limited to its first 1,000 training images (--dataset-option subset=1000)
#    against no augmentation, the same number of steps.
# 3. ACGAN's label accuracy against cgan's, the same number of steps.
# Every run is scored by `ganframe eval` (the classifier is trained on all of MNIST's training split,
# the Frechet distance is against the held-out split). Runs already present are only scored.
set -u
OUT=${1:?usage: step_plugins_quality.sh OUT [SEEDS...]}
shift
SEEDS=${*:-1 2}
WALL=${WALL:-300}        # seconds per wgan-gp run
STEPS=${STEPS:-600}     # steps of the diffaugment and acgan runs
WIDTH=${WIDTH:-16}       # dcgan width (32 is the model's default; 16 keeps CPU runs short)
GANFRAME=${GANFRAME:-ganframe}
mkdir -p "$OUT"

run() {  # run DIR ARGS...: train unless DIR has a checkpoint
  local dir=$1; shift
  [ -d "$dir/checkpoints" ] && return 0
  $GANFRAME run --out "$dir" --log-every 100 "$@" > "$dir.log" 2>&1
}

for seed in $SEEDS; do
  # 1. equal wall time: start both, stop both after $WALL s
  for step in n-critic two-phase; do
    dir="$OUT/wgan-$step-s$seed"
    [ -d "$dir/checkpoints" ] || timeout -s TERM "$WALL" $GANFRAME run --model dcgan --loss wgan-gp --step "$step" \
      --model-option width=$WIDTH --epochs 100 --seed "$seed" --log-every 50 --out "$dir" > "$dir.log" 2>&1 &
  done
  wait
  # 2. data-limited: 1,000 images, with and without DiffAugment
  run "$OUT/subset-none-s$seed" --model dcgan --model-option width=$WIDTH --dataset-option subset=1000 \
    --epochs 1000 --max-steps "$STEPS" --seed "$seed"
  run "$OUT/subset-diffaugment-s$seed" --model dcgan --model-option width=$WIDTH --dataset-option subset=1000 \
    --augment diffaugment --epochs 1000 --max-steps "$STEPS" --seed "$seed"
  # 3. label accuracy: acgan against cgan (its defaults)
  run "$OUT/acgan-s$seed" --model acgan --model-option width=$WIDTH --epochs 100 --max-steps "$STEPS" --seed "$seed"
  run "$OUT/cgan-s$seed" --model cgan --epochs 100 --max-steps "$STEPS" --seed "$seed"
done

echo "| run | steps (G updates) | Frechet distance | label accuracy | class KL |"
echo "|---|---|---|---|---|"
for dir in "$OUT"/*/; do
  dir=${dir%/}
  [ -d "$dir/checkpoints" ] || continue
  json=$($GANFRAME eval "$dir" --n 2000 --json 2>/dev/null) || { echo "| $(basename "$dir") | eval failed | | | |"; continue; }
  python3 - "$dir" "$json" <<'EOF'
import json, os, sys
run, doc = sys.argv[1], json.loads(sys.argv[2])
rows = [json.loads(line) for line in open(os.path.join(run, "metrics.jsonl")) if line.strip().startswith("{")]
step = rows[-1]["step"] if rows else "?"
cfg = json.load(open(os.path.join(run, "config.json")))
g_updates = step // int(cfg.get("step_options", {}).get("n", 1)) if cfg.get("step") == "n-critic" and isinstance(step, int) else step
fd = doc.get("frechet_distance")
acc = doc.get("label_accuracy")
kl = doc.get("class_kl")
fmt = lambda v: "" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)
print(f"| {os.path.basename(run)} | {step} ({g_updates}) | {fmt(fd)} | {fmt(acc)} | {fmt(kl)} |")
EOF
done
