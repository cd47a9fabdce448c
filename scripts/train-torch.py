#!/usr/bin/env python3
"""Trains the wide Fashion-MNIST reference classifiers in PyTorch and exports them with torch.onnx.export.

Build-time only (Debian: apt-get install python3-torch python3-torchvision dataset-fashion-mnist);
npm ci, npm test and the demo never need it. The ONNX files are exactly what torch.onnx.export
writes, so they stand for what users bring.

    /usr/bin/python3 scripts/train-torch.py train  fmnist-vgg-wide    [--epochs N] [--checkpoint-dir D]
    /usr/bin/python3 scripts/train-torch.py export fmnist-vgg-wide    # -> fixtures/onnx/<name>.onnx + metrics

Training resumes from the last per-epoch checkpoint in --checkpoint-dir (default: the user's cache
folder), so an interrupted run continues where it stopped. Every epoch reshuffles and augments with a
generator seeded by (seed, epoch), so a resumed run sees the same batches as an uninterrupted one.
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA_DIR = '/usr/share/datasets/fashion-mnist'
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---------------------------------------------------------------- data

def read_idx(path):
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_split(split):
    prefix = 'train' if split == 'train' else 't10k'
    images = read_idx(os.path.join(DATA_DIR, f'{prefix}-images-idx3-ubyte.gz'))
    labels = read_idx(os.path.join(DATA_DIR, f'{prefix}-labels-idx1-ubyte.gz'))
    # Pixels / 255 in [0, 1], N×1×28×28: the project's Fashion-MNIST convention (src/eval/data/fashion-mnist.ts).
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return x, torch.from_numpy(labels.astype(np.int64))


def augment(x, gen, pad=2):
    """Random crop with zero padding and random horizontal flip, per image."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))[:, 0]
    rows = torch.randint(0, 2 * pad + 1, (n, 1), generator=gen) + torch.arange(h)[None, :]
    cols = torch.randint(0, 2 * pad + 1, (n, 1), generator=gen) + torch.arange(w)[None, :]
    out = padded[torch.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]].unsqueeze(1)
    flip = torch.rand(n, generator=gen) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(3), out)


# ---------------------------------------------------------------- models

def conv_bn_relu(c_in, c_out, stride=1):
    return [nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class VggWide(nn.Module):
    """3×3 convs 64-64 | 128-128 | 256-256 with BN + ReLU, 2×2 max pooling, GAP, linear head (~116 M MACs)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn_relu(1, 64), *conv_bn_relu(64, 64), nn.MaxPool2d(2),
            *conv_bn_relu(64, 128), *conv_bn_relu(128, 128), nn.MaxPool2d(2),
            *conv_bn_relu(128, 256), *conv_bn_relu(256, 256))
        self.head = nn.Linear(256, 10)

    def forward(self, x):
        return self.head(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.proj = None
        if stride != 1 or c_in != c_out:
            self.proj = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.proj is None else self.proj(x)))


class ResNetWide(nn.Module):
    """Stem 3×3 (64) at 28², one basic block per stage: 64 (28²), 128 (stride 2, 14²), 256 (stride 2, 7²) (~148 M MACs)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn_relu(1, 64))
        self.stage1 = BasicBlock(64, 64, 1)
        self.stage2 = BasicBlock(64, 128, 2)
        self.stage3 = BasicBlock(128, 256, 2)
        self.head = nn.Linear(256, 10)

    def forward(self, x):
        x = self.stage3(self.stage2(self.stage1(self.stem(x))))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


MODELS = {
    # Epochs chosen so each trains in about an hour on 2 CPU threads (one-cycle converges in few epochs).
    'fmnist-vgg-wide': dict(build=VggWide, epochs=10),
    'fmnist-resnet-wide': dict(build=ResNetWide, epochs=8),
}


def macs_per_image(model):
    """Conv and linear MACs for one 1×28×28 image, counted by forward hooks (conv: H_out·W_out·N·C/groups·kh·kw)."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            total[0] += out.shape[2] * out.shape[3] * mod.out_channels * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, nn.Linear):
            total[0] += mod.in_features * mod.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for h in handles:
        h.remove()
    return total[0]


# ---------------------------------------------------------------- training

def evaluate(model, x, y, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = x[i:i + batch].contiguous(memory_format=torch.channels_last)
            correct += (model(xb).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def checkpoint_dir(args):
    base = args.checkpoint_dir or os.path.join(os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'), 'netdecouple', 'train-torch')
    os.makedirs(base, exist_ok=True)
    return base


def save_atomically(obj, path):
    tmp = path + '.tmp'
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(args):
    spec = MODELS[args.model]
    epochs = args.epochs or spec['epochs']
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = spec['build']().to(memory_format=torch.channels_last)
    x_train, y_train = load_split('train')
    x_test, y_test = load_split('test')
    steps_per_epoch = math.ceil(len(x_train) / args.batch)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=epochs, steps_per_epoch=steps_per_epoch, pct_start=0.25)
    ckpt_path = os.path.join(checkpoint_dir(args), f'{args.model}-seed{args.seed}-e{epochs}.pt')
    state = dict(epoch=0, seconds=0.0, history=[])
    if os.path.exists(ckpt_path):
        ckpt = torch.load(ckpt_path)
        model.load_state_dict(ckpt['model'])
        opt.load_state_dict(ckpt['opt'])
        sched.load_state_dict(ckpt['sched'])
        state = ckpt['state']
        print(f'resumed {args.model} after epoch {state["epoch"]} ({state["seconds"] / 60:.1f} min so far)', flush=True)
    for epoch in range(state['epoch'], epochs):
        model.train()
        gen = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        order = torch.randperm(len(x_train), generator=gen)
        t0 = time.time()
        loss_sum = 0.0
        for step in range(steps_per_epoch):
            idx = order[step * args.batch:(step + 1) * args.batch]
            xb = augment(x_train[idx], gen).contiguous(memory_format=torch.channels_last)
            loss = F.cross_entropy(model(xb), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item()
            if step % 50 == 0:
                print(f'  epoch {epoch + 1}/{epochs} step {step}/{steps_per_epoch} loss {loss.item():.4f} ({time.time() - t0:.0f} s)', flush=True)
        state['seconds'] += time.time() - t0
        acc = evaluate(model, x_test, y_test)
        state['history'].append(dict(epoch=epoch + 1, train_loss=loss_sum / steps_per_epoch, test_top1=acc, seconds=round(time.time() - t0, 1)))
        state['epoch'] = epoch + 1
        save_atomically(dict(model=model.state_dict(), opt=opt.state_dict(), sched=sched.state_dict(), state=state), ckpt_path)
        print(f'epoch {epoch + 1}/{epochs}: train loss {loss_sum / steps_per_epoch:.4f}, test top-1 {acc * 100:.2f} %, {time.time() - t0:.0f} s', flush=True)
    print(f'done: {ckpt_path}', flush=True)


# ---------------------------------------------------------------- export

def export(args):
    spec = MODELS[args.model]
    epochs = args.epochs or spec['epochs']
    ckpt_path = os.path.join(checkpoint_dir(args), f'{args.model}-seed{args.seed}-e{epochs}.pt')
    ckpt = torch.load(ckpt_path)
    if ckpt['state']['epoch'] < epochs:
        sys.exit(f'train-torch: {ckpt_path} holds {ckpt["state"]["epoch"]} of {epochs} epochs; finish training first')
    model = spec['build']()
    model.load_state_dict(ckpt['model'])
    model.eval()
    torch.set_num_threads(args.threads)
    x_test, y_test = load_split('test')
    top1 = evaluate(model, x_test, y_test)
    out_onnx = os.path.join(ROOT, 'fixtures', 'onnx', f'{args.model}.onnx')
    # BN stays as BatchNormalization nodes (netdecouple folds it): PRESERVE mode with the model in eval mode
    # skips the exporter's eval-mode Conv+BN fusion; no constant folding either.
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), out_onnx, opset_version=13,
                      input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    # Same field names as the other reference classifiers' metrics.json (test/eval/reference-accuracy.test.ts).
    metrics = dict(
        model=args.model, top1=round(top1, 4), testSamples=len(x_test), epochs=epochs, seed=args.seed,
        trainSeconds=round(ckpt['state']['seconds'], 1), torchVersion=torch.__version__,
        backend=f'PyTorch {torch.__version__} (CPU, {args.threads} thread(s))',
        macsPerImage=macs_per_image(model), params=sum(p.numel() for p in model.parameters()),
        input='N×1×28×28 float32, pixels / 255 in [0, 1] (no mean/std normalisation)', output='10 logits (no softmax)',
        export=f'torch.onnx.export, opset 13, dynamic batch axis, BatchNormalization kept as nodes',
        recipe=dict(optimizer='SGD, momentum 0.9, Nesterov', weightDecay=args.weight_decay, schedule='one-cycle (25 % warm-up, cosine)',
                    peakLearningRate=args.lr, batchSize=args.batch, trainSamples=60000,
                    augmentation='random 28×28 crop of the 2-pixel zero-padded image, horizontal flip p = 0.5',
                    data='Fashion-MNIST official split (Zalando Research, MIT), Debian package dataset-fashion-mnist'),
        history=ckpt['state']['history'])
    with open(os.path.join(ROOT, 'fixtures', 'onnx', f'{args.model}.metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=2)
        f.write('\n')
    print(f'{out_onnx}: test top-1 {top1 * 100:.2f} %', flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('command', choices=['train', 'export'])
    p.add_argument('model', choices=sorted(MODELS))
    p.add_argument('--epochs', type=int)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--lr', type=float, default=0.1)
    p.add_argument('--weight-decay', type=float, default=5e-4)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--checkpoint-dir')
    args = p.parse_args()
    train(args) if args.command == 'train' else export(args)


if __name__ == '__main__':
    main()
