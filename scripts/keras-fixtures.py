#!/usr/bin/python3
"""Writes the reference classifiers (TF.js LayersModels in fixtures/models/) as Keras files:

  fixtures/keras/<model>.h5     Keras 2 / tf.keras layout (legacy_h5_format.py)
  fixtures/keras/<model>.keras  Keras 3 layout (saving_lib.py)

with h5py and the standard library only, independently of the project's TypeScript writer, so the
TypeScript reader is tested against files it did not make. Needs Debian's python3-h5py
(`apt-get install python3-h5py`); run from the repository root: /usr/bin/python3 scripts/keras-fixtures.py
The layouts are documented in docs/keras.md.
"""
import io
import json
import os
import re
import sys
import zipfile

import h5py
import numpy as np

MODELS = ["fmnist-vgg", "fmnist-resnet"]
OUT = "fixtures/keras"
KERAS2_VERSION = "2.15.0"
KERAS3_VERSION = "3.6.0"
# Fixed so that re-running the script reproduces the archives.
DATE_SAVED = "2026-01-01@00:00:00"
ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def load_tfjs(folder):
    with open(os.path.join(folder, "model.json")) as f:
        model = json.load(f)
    data = b"".join(open(os.path.join(folder, p), "rb").read() for g in model["weightsManifest"] for p in g["paths"])
    weights, offset = [], 0
    for group in model["weightsManifest"]:
        for spec in group["weights"]:
            assert spec["dtype"] == "float32" and "quantization" not in spec, spec
            n = int(np.prod(spec["shape"])) if spec["shape"] else 1
            weights.append((spec["name"], np.frombuffer(data, "<f4", n, offset).reshape(spec["shape"])))
            offset += 4 * n
    topology = model["modelTopology"]
    return topology.get("model_config", topology), weights


def layer_weights(layers, weights):
    """Weights per layer name, in the manifest's order (Keras' own: trainable, then the rest)."""
    out = {l["name"]: [] for l in layers}
    for name, value in weights:
        layer, role = name.rsplit("/", 1)
        out[layer].append((role, value))
    return out


# ---------------------------------------------------------------- Keras 2 / tf.keras .h5

def write_h5(path, config, per_layer):
    layers = config["config"]["layers"]
    model_config = {"class_name": "Functional", "config": config["config"]}
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = KERAS2_VERSION.encode("utf8")
        f.attrs["model_config"] = json.dumps(model_config).encode("utf8")
        mw = f.create_group("model_weights")
        mw.attrs["layer_names"] = [l["name"].encode("utf8") for l in layers]
        mw.attrs["backend"] = b"tensorflow"
        mw.attrs["keras_version"] = KERAS2_VERSION.encode("utf8")
        for l in layers:
            g = mw.create_group(l["name"])
            names = [f"{l['name']}/{role}:0".encode("utf8") for role, _ in per_layer[l["name"]]]
            g.attrs["weight_names"] = names
            for name, (_, value) in zip(names, per_layer[l["name"]]):
                g.create_dataset(name.decode(), data=value)


# ---------------------------------------------------------------- Keras 3 .keras

def snake(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def out_shape(layer, ins):
    """Per-example output shape of the classes the reference classifiers use."""
    cls, c = layer["class_name"], layer["config"]
    x = ins[0] if ins else None
    if cls == "InputLayer":
        return c["batch_input_shape"][1:]
    if cls in ("Conv2D", "MaxPooling2D"):
        k = c["kernel_size"] if cls == "Conv2D" else c["pool_size"]
        s = c["strides"] if c.get("strides") else k
        pad = c.get("padding", "valid")
        hw = [-(-x[i] // s[i]) if pad == "same" else (x[i] - k[i]) // s[i] + 1 for i in (0, 1)]
        return hw + [c["filters"] if cls == "Conv2D" else x[2]]
    if cls in ("BatchNormalization", "ReLU", "Add", "Activation", "Dropout"):
        return x
    if cls == "GlobalAveragePooling2D":
        return [x[2]]
    if cls == "Flatten":
        return [int(np.prod(x))]
    if cls == "Dense":
        return [c["units"]]
    raise ValueError(f"no shape rule for {cls}")


def wrap(module, obj):
    config = dict(obj["config"])
    if obj["class_name"] == "VarianceScaling" and config.get("distribution") == "normal":
        config["distribution"] = "truncated_normal"  # what tf.keras read "normal" as; Keras 3 refuses "normal"
    return {"module": module, "class_name": obj["class_name"], "config": config, "registered_name": None}


def v3_config(cls, c):
    out = {}
    for k, v in c.items():
        if k == "batch_input_shape":
            out["batch_shape"] = v
        elif k.endswith("_initializer") and v:
            out[k] = wrap("keras.initializers", v)
        elif (k.endswith("_regularizer") or k.endswith("_constraint")) and v:
            out[k] = wrap("keras.regularizers" if k.endswith("_regularizer") else "keras.constraints", v)
        else:
            out[k] = v
    if cls != "InputLayer":
        out["dtype"] = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
    return out


def keras_tensor(name, shapes):
    return {"class_name": "__keras_tensor__", "config": {"shape": [None] + shapes[name], "dtype": "float32", "keras_history": [name, 0, 0]}}


def v3_model(config):
    shapes, layers = {}, []
    for l in config["config"]["layers"]:
        ins = [ref[0] for node in l["inbound_nodes"] for ref in node]
        shapes[l["name"]] = out_shape(l, [shapes[i] for i in ins])
        entry = {"module": "keras.layers", "class_name": l["class_name"], "config": v3_config(l["class_name"], l["config"]), "registered_name": None}
        if ins:
            in_shapes = [[None] + shapes[i] for i in ins]
            entry["build_config"] = {"input_shape": in_shapes[0] if len(ins) == 1 else in_shapes}
            tensors = [keras_tensor(i, shapes) for i in ins]
            entry["inbound_nodes"] = [{"args": [tensors[0] if len(tensors) == 1 else tensors], "kwargs": {}}]
        else:
            entry["inbound_nodes"] = []
        entry["name"] = l["name"]
        layers.append(entry)
    c = config["config"]
    return {
        "module": "keras", "class_name": "Functional", "registered_name": "Functional",
        "config": {"name": c["name"], "trainable": True, "layers": layers, "input_layers": c["input_layers"], "output_layers": c["output_layers"]},
        "build_config": {"input_shape": None}, "compile_config": None,
    }


# Keras 3 keeps variables positionally, in build() order; BatchNormalization: gamma, beta, then the moving statistics.
KERAS3_ORDER = ["kernel", "depthwise_kernel", "pointwise_kernel", "gamma", "beta", "moving_mean", "moving_variance", "bias"]


def write_keras(path, config, per_layer):
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_group("vars")
        used = {}
        for l in config["config"]["layers"]:
            base = snake(l["class_name"])
            used[base] = used.get(base, -1) + 1
            group = f"layers/{base}" if used[base] == 0 else f"layers/{base}_{used[base]}"
            vars_ = f.create_group(group).create_group("vars")
            ordered = sorted(per_layer[l["name"]], key=lambda rv: KERAS3_ORDER.index(rv[0]))
            for i, (_, value) in enumerate(ordered):
                vars_[str(i)] = value
    entries = [
        ("metadata.json", json.dumps({"keras_version": KERAS3_VERSION, "date_saved": DATE_SAVED}).encode()),
        ("config.json", json.dumps(v3_model(config)).encode()),
        ("model.weights.h5", buf.getvalue()),
    ]
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, ZIP_TIME), data)


def main():
    os.makedirs(OUT, exist_ok=True)
    for m in MODELS:
        config, weights = load_tfjs(os.path.join("fixtures/models", m))
        per_layer = layer_weights(config["config"]["layers"], weights)
        write_h5(os.path.join(OUT, f"{m}.h5"), config, per_layer)
        write_keras(os.path.join(OUT, f"{m}.keras"), config, per_layer)
        print(f"wrote {OUT}/{m}.h5, {OUT}/{m}.keras", file=sys.stderr)


if __name__ == "__main__":
    main()
