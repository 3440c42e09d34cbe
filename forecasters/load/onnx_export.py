"""The student's MLP as an ONNX graph, built from its numpy weights (no torch needed to export).

The graph maps one step's features (N, F) to the scaled residual (N, 1); building the features and rolling
forward stay in the caller, exactly as :meth:`StudentForecaster.features` and ``roll`` do, with the scale
and layout stored as metadata in the model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from forecasters.load.student import StudentForecaster
from simulator.common.errors import UserError


def to_onnx(student: StudentForecaster, path: Path) -> Path:
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise UserError("ONNX export needs the onnx package: pip install onnx") from None
    inputs = student.weights[0][0].shape[0]
    nodes, initializers, current = [], [], "features"
    for i, (w, b) in enumerate(student.weights):
        initializers += [numpy_helper.from_array(w.astype(np.float32), f"w{i}"),
                         numpy_helper.from_array(b.astype(np.float32), f"b{i}")]
        out = "residual" if i == len(student.weights) - 1 else f"h{i}"
        nodes.append(helper.make_node("Gemm", [current, f"w{i}", f"b{i}"], [out if out == "residual" else f"z{i}"]))
        if out != "residual":
            nodes.append(helper.make_node("Relu", [f"z{i}"], [out]))
        current = out
    graph = helper.make_graph(
        nodes, "dcsim_student",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", inputs])],
        [helper.make_tensor_value_info("residual", TensorProto.FLOAT, ["n", 1])],
        initializers,
    )
    model = helper.make_model(graph, producer_name="dcsim", opset_imports=[helper.make_opsetid("", 17)])
    helper.set_model_props(model, {"dcsim_config": json.dumps(student.config())})
    onnx.checker.check_model(model)
    path = Path(path)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(model.SerializeToString())
    tmp.replace(path)
    return path
