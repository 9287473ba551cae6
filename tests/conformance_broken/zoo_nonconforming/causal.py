import zoo_core


class DictAnalyzer(zoo_core.CausalAnalyzer):
    def analyze(self, **options):
        return {"answer": 42}  # not an AnalysisResult
