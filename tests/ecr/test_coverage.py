from ecrlab.coverage import DOC, render


def test_coverage_table_is_current():
    assert DOC.read_text() == render(), "docs/ecr-coverage.md is stale: run `python -m ecrlab.coverage`"
