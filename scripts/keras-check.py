#!/usr/bin/python3
"""Checks .keras / .h5 files written by netdecouple from outside the project.

  /usr/bin/python3 scripts/keras-check.py expected.json model.keras [model.h5 ...]

1. Layout (needs h5py): the group/attribute layout Keras' own loaders walk (docs/keras.md):
   .h5: root attrs keras_version, backend, model_config; model_weights/layer_names; every
   layer's weight_names resolve to datasets. .keras: a zip with metadata.json, config.json and
   model.weights.h5 whose layers/<snake_case(class)>[_k]/vars hold every config layer's variables.
2. Keras itself (needs keras, or tensorflow's tf.keras): loads each file with
   keras.models.load_model(compile=False), runs expected.json's input ("input": {shape, data},
   NHWC) and compares with its "output" ({shape, data}); max |diff| must be <= "tolerance".
   Without a Keras installation this part prints "skip: ..." and the reason.

Exit status: 0 all checks that could run passed, 1 a check failed, 2 bad usage.
Prints one line per check.
"""
import io
import json
import re
import sys
import zipfile


def snake(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def text(v):
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def check_h5_layout(h5py, path):
    with h5py.File(path, "r") as f:
        for key in ("keras_version", "backend", "model_config"):
            assert key in f.attrs, f"root attribute {key} missing"
        config = json.loads(text(f.attrs["model_config"]))
        names = [l["name"] for l in config["config"]["layers"]]
        mw = f["model_weights"]
        listed = [text(n) for n in mw.attrs["layer_names"]]
        assert listed == names, f"layer_names {listed[:3]}… differ from the config's layers {names[:3]}…"
        count = 0
        for name in listed:
            for wn in mw[name].attrs["weight_names"]:
                ds = mw[name][text(wn)]
                assert ds.dtype == "float32", f"{name}/{text(wn)} is {ds.dtype}"
                count += 1
        return f"{len(listed)} layers, {count} weights"


def check_keras_layout(h5py, path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        for n in ("metadata.json", "config.json", "model.weights.h5"):
            assert n in names, f"{n} missing from the zip"
        meta = json.loads(z.read("metadata.json"))
        assert "keras_version" in meta, "metadata.json has no keras_version"
        config = json.loads(z.read("config.json"))
        weights = z.read("model.weights.h5")
    assert config["class_name"] in ("Functional", "Sequential"), config["class_name"]
    used, count = {}, 0
    with h5py.File(io.BytesIO(weights), "r") as f:
        for layer in config["config"]["layers"]:
            for key in ("module", "class_name", "config", "registered_name", "name", "inbound_nodes"):
                assert key in layer, f"layer {layer.get('name')} has no {key}"
            base = snake(layer["class_name"])
            used[base] = used.get(base, -1) + 1
            group = f"layers/{base}" if used[base] == 0 else f"layers/{base}_{used[base]}"
            assert f"{group}/vars" in f, f"{group}/vars missing (layer {layer['name']})"
            keys = sorted(f[f"{group}/vars"].keys(), key=int)
            assert keys == [str(i) for i in range(len(keys))], f"{group}/vars keys {keys} are not 0..n-1"
            count += len(keys)
    return f"{len(config['config']['layers'])} layers, {count} variables"


def load_keras():
    try:
        import keras  # noqa: F401
        return keras, f"keras {keras.__version__}"
    except ImportError:
        pass
    try:
        import tensorflow as tf
        return tf.keras, f"tf.keras (tensorflow {tf.__version__})"
    except ImportError:
        return None, "Keras is not installed (neither keras nor tensorflow imports; Debian has no package for either, and PyPI wheels need network)"


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2].strip())
        return 2
    with open(argv[1]) as f:
        expected = json.load(f)
    files = argv[2:]
    failed = False
    try:
        import h5py
    except ImportError:
        h5py = None
        print("skip layout: h5py is not installed (apt-get install python3-h5py)")
    if h5py:
        for path in files:
            try:
                what = check_keras_layout(h5py, path) if path.endswith(".keras") else check_h5_layout(h5py, path)
                print(f"ok layout {path}: {what}")
            except Exception as e:  # one line per failed check
                failed = True
                print(f"FAIL layout {path}: {e}")
    keras, version = load_keras()
    if keras is None:
        print(f"skip keras: {version}")
        return 1 if failed else 0
    import numpy as np
    x = np.asarray(expected["input"]["data"], dtype="float32").reshape(expected["input"]["shape"])
    y = np.asarray(expected["output"]["data"], dtype="float32").reshape(expected["output"]["shape"])
    for path in files:
        try:
            model = keras.models.load_model(path, compile=False)
            got = np.asarray(model.predict(x, verbose=0))
            diff = float(np.max(np.abs(got - y)))
            ok = diff <= expected.get("tolerance", 1e-4)
            failed |= not ok
            print(f"{'ok' if ok else 'FAIL'} keras {path}: {version}, max |diff| {diff:.3g}")
        except Exception as e:
            failed = True
            print(f"FAIL keras {path}: {version}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
