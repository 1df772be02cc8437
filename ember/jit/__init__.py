"""Graph mode: trace a module or function into a graph (ember.jit.ir), run it, save and load
it without the model's Python class. PyTorch's ``torch.jit`` names; ember has no TorchScript
compiler, so ``script`` returns its argument to run eagerly (see _tracer.py)."""

from typing import Final

from ._serialize import load, save
from ._tracer import (
    TracedFunction,
    TracedModule,
    TracerWarning,
    annotate,
    export,
    freeze,
    ignore,
    is_scripting,
    is_tracing,
    script,
    trace,
    trace_graph,
    trace_module,
    unused,
)
from .executor import run_graph

ScriptModule = TracedModule         # what torch.jit.trace/load return: isinstance checks work
ScriptFunction = TracedFunction
TopLevelTracedModule = TracedModule

__all__ = ["Final", "ScriptFunction", "ScriptModule", "TopLevelTracedModule", "TracedFunction",
           "TracedModule", "TracerWarning", "annotate", "export", "freeze", "ignore",
           "is_scripting", "is_tracing", "load", "run_graph", "save", "script", "trace",
           "trace_graph", "trace_module", "unused"]
