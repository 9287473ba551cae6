"""A torch-free analyzer: parses 'A -> B; B -> C' and reports each node's parents."""

import zoo_core


class ParentsAnalyzer(zoo_core.CausalAnalyzer):
    def analyze(self, graph: str) -> zoo_core.AnalysisResult:
        parents: dict[str, list[str]] = {}
        for part in filter(None, (p.strip() for p in graph.split(";"))):
            if "->" not in part:
                raise zoo_core.InputError(f"--graph: cannot read edge {part!r}; write edges as 'A -> B'")
            a, b = (s.strip() for s in part.split("->", 1))
            parents.setdefault(a, [])
            parents.setdefault(b, []).append(a)
        text = "\n".join(f"{node}: {', '.join(sorted(ps)) or '-'}" for node, ps in sorted(parents.items()))
        return zoo_core.AnalysisResult({"parents": {k: sorted(v) for k, v in parents.items()}}, text)
