"""The build engine: plan, execute (papermill, warm kernels), remember state, stage, compile with
Sphinx/LaTeX, publish, check links. Uses data and core only, never a chapter or rendering module."""
