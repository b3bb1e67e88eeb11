# Sourced by bench/trainer.sh and bench/trainer_gpu.sh: the model zoo's networks the trainer
# benchmarks compare, as trainer_bench OPTIONS (zoo) and as bench/trainer_pytorch.py flags (peer).
# shellcheck disable=SC2034
declare -A zoo=([simple_cnn]="" [vgg11]="model.arch=vgg11,model.width=0.5,model.batch_norm=true,resize=32"
                [resnet18]="model.arch=resnet18,model.width=0.5,resize=32")
declare -A peer=([simple_cnn]="" [vgg11]="--arch vgg11 --width 0.5 --batch-norm --resize 32"
                 [resnet18]="--arch resnet18 --width 0.5 --resize 32")
nets=${CS_BENCH_NETS:-simple_cnn vgg11 resnet18}
fast="training.precision=bf16,training.channels_last=true"
