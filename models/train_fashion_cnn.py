# Trains a small BatchNorm CNN on Fashion-MNIST (fixed seed) and exports models/fashion_cnn.onnx
# (opset 13, BN nodes kept, input "input" [batch,1,28,28], output "logits"); writes fashion_cnn.json.
import argparse
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fmnist_common as fc  # noqa: E402


def conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn_relu(1, 32), nn.MaxPool2d(2),
            *conv_bn_relu(32, 64), nn.MaxPool2d(2),
            *conv_bn_relu(64, 128),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc(self.features(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=8)
    args = ap.parse_args()
    torch.manual_seed(fc.SEED)
    model = FashionCNN()
    print("params", fc.count_params(model))
    acc, secs = fc.train(model, args.epochs)
    fc.finish(model, "fashion_cnn", args.epochs, acc, secs)


if __name__ == "__main__":
    main()
