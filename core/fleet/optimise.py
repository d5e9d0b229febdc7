"""ONNX graph optimisation and dynamic int8 quantisation, with an honest account of each.

Graph optimisation is ONNX Runtime's offline pass at the *basic* level: constant folding
and redundant-node removal only, which stay valid on any CPU and execution provider (the
extended levels fuse nodes into kernels of the machine that ran the pass, and an edge
device may be an ARM board). Dynamic quantisation stores MatMul/Gemm weights as int8:
it shrinks neural networks about 4x; tree ensembles and linear models have no such
weights worth quantising, so they are left as they are and the reason is recorded.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import onnx

from core.errors import UserInputError

log = logging.getLogger(__name__)
QUANTISABLE_OPS = frozenset({"MatMul", "Gemm"})
MIN_GAIN = 0.9  # keep int8 only if it is at most 90% of the fp32 size
MIN_WEIGHTS = 256  # fewer quantisable weights than this: int8 cannot pay for its scales


@dataclass(frozen=True, slots=True)
class Quantisation:
    """The int8 variant, or None with the reason it was not made or not kept."""

    model: bytes | None
    note: str
    weights: int  # MatMul/Gemm weights found in initializers


def dedupe_opsets(model: onnx.ModelProto) -> onnx.ModelProto:
    """One opset entry per domain (the highest): skl2onnx may emit one twice."""
    best: dict[str, int] = {}
    for entry in model.opset_import:
        best[entry.domain] = max(best.get(entry.domain, 0), entry.version)
    if len(best) != len(model.opset_import):
        del model.opset_import[:]
        for domain, version in best.items():
            model.opset_import.append(onnx.helper.make_opsetid(domain, version))
    return model


def _work_dir():
    return tempfile.TemporaryDirectory(prefix="beacon-onnx-")


def optimise(model: bytes) -> bytes:
    """The model after ONNX Runtime's offline basic graph optimisation."""
    import onnxruntime as ort

    with _work_dir() as folder:
        source, target = Path(folder) / "model.onnx", Path(folder) / "optimised.onnx"
        source.write_bytes(model)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(target)
        try:
            ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph classes
            raise UserInputError(f"ONNX Runtime cannot load the model: {_first_line(exc)}") from exc
        optimised = onnx.load_model_from_string(target.read_bytes())
    return dedupe_opsets(optimised).SerializeToString()


def quantisable_weights(model: onnx.ModelProto) -> int:
    """How many initializer values feed MatMul or Gemm nodes (what int8 would shrink)."""
    sizes = {init.name: _size(init) for init in model.graph.initializer}
    found = {
        name
        for node in model.graph.node
        if node.op_type in QUANTISABLE_OPS
        for name in node.input
        if name in sizes
    }
    return sum(sizes[name] for name in found)


def _size(init: onnx.TensorProto) -> int:
    count = 1
    for dim in init.dims:
        count *= dim
    return count


def quantise(model: bytes, *, force: bool = False) -> Quantisation:
    """Dynamic int8 quantisation of MatMul/Gemm weights, when there are enough to matter.

    `force` quantises whatever the gain (the benchmark uses it to show what int8 does to
    models that gain nothing).
    """
    proto = dedupe_opsets(onnx.load_model_from_string(model))
    weights = quantisable_weights(proto)
    if weights < MIN_WEIGHTS and not force:
        what = "no MatMul/Gemm weights" if weights == 0 else f"only {weights} MatMul/Gemm weights"
        return Quantisation(None, f"quantisation skipped: {what} to quantise", weights)
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with _work_dir() as folder:
        source = Path(folder) / "model.onnx"
        prepared, target = Path(folder) / "prepared.onnx", Path(folder) / "int8.onnx"
        source.write_bytes(proto.SerializeToString())
        # Symbolic shape inference needs fixed-rank graphs; ONNX shape inference suffices.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        quantize_dynamic(
            str(prepared),
            str(target),
            weight_type=QuantType.QInt8,
            # Tensors shape inference leaves untyped (e.g. after built-in pre-processing)
            # are float: Beacon's models compute in float32 throughout.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        quantised = target.read_bytes()
    if len(quantised) > MIN_GAIN * len(model) and not force:
        return Quantisation(
            None,
            f"quantisation kept fp32: int8 is {len(quantised):,} bytes against "
            f"{len(model):,} (no real gain)",
            weights,
        )
    log.info("quantised %d weights: %d -> %d bytes", weights, len(model), len(quantised))
    return Quantisation(
        quantised,
        f"quantised {weights:,} weights to int8: {len(model):,} -> {len(quantised):,} bytes "
        f"({len(model) / len(quantised):.1f}x smaller)",
        weights,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]
