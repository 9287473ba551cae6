import torch  # noqa: F401  - an analyzer must stay torch-free

import zoo_core


class TorchAnalyzer(zoo_core.CausalAnalyzer):
    def analyze(self, **options):
        return zoo_core.AnalysisResult({"ok": True})
