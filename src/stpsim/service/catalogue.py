"""What the shells (the CLI, the REST API and the web pages) read of the model, all through
this one door: footprints and geographies, the baseline, plan documents (load, validate, the
JSON Schema), the care-model library, assumptions and sources, the four tests' names, the gap
bridge's lines, report formats, the roll-up's inputs, saved run records and local tables, and
the errors each raises.

Names resolve on first use (PEP 562), so a command pays only for what it reads: ``stpsim run``
never loads the geography's pandas tables to print its help. Each name is listed once below with
the module that owns it; nothing is redefined here.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# name -> (module under stpsim, attribute); "" means the module itself
NAMES: dict[str, tuple[str, str]] = {
    # geography and footprints
    "geography": ("geography", ""),
    "find_footprint": ("footprint", "find"),
    "all_footprints": ("footprint", "all_footprints"),
    "UnknownFootprint": ("footprint", "UnknownFootprint"),
    "preset_footprints": ("geography", "preset"),
    "projection_of": ("baseline", "projection_of"),
    "baseline": ("baseline", "baseline"),
    # plan documents
    "PlanError": ("plan", "PlanError"),
    "load_plan": ("plan", "load"),
    "validate_plan": ("plan", "validate"),
    "plan_schema": ("plan", "schema"),
    "default_ramp": ("plan", "default_ramp"),
    "ramp_to": ("plan", "ramp_to"),
    "RunTooLarge": ("engine", "RunTooLarge"),
    # the care-model library, assumptions and sources
    "library": ("interventions", "library"),
    "effect_lines": ("interventions", "effect_lines"),
    "library_document": ("interventions", "library_document"),
    "assumptions": ("assumptions", ""),
    "DATA_DIR": ("reference", "DATA_DIR"),
    "shipped_sources": ("reference", "sources"),
    "use_tables": ("reference", "use_tables"),
    "ReferenceDataError": ("reference", "ReferenceDataError"),
    "EXAMPLES_DIR": ("reference", "EXAMPLES_DIR"),
    "CONTRACT_PRESETS": ("contract_terms", "PRESETS"),
    "contracts_title": ("contract_terms", "contracts_title"),
    "preset_term_defaults": ("contract_terms", "preset_term_defaults"),
    "rules_document": ("payment.rules", "rules_document"),
    # service change
    "ATTESTED": ("service_change", "ATTESTED"),
    "SERVICE_KINDS": ("service_change", "SERVICE_KINDS"),
    "STOOD_DOWN": ("store.models", "STOOD_DOWN"),
    "FOUR_TESTS": ("service_change", "FOUR_TESTS"),
    "consultation": ("analysis.service_change", "consultation"),
    "evidence_grade": ("analysis.service_change", "evidence_grade"),
    # the money's words and charts shared with the reports
    "BRIDGE_LINES": ("finance", "BRIDGE_LINES"),
    "BRIDGE_SHORT": ("finance", "BRIDGE_SHORT"),
    "PLAN_LINES": ("finance", "PLAN_LINES"),
    "FAN_SETTINGS": ("report.charts", "FAN_SETTINGS"),
    "human_name": ("report.tables", "human"),
    "script_json": ("report.figure", "script_json"),
    "waterfall_reach": ("report.charts", "waterfall_reach"),
    "REPORT_FORMATS": ("report", "FORMATS"),
    "REPORT_SUFFIXES": ("report", "SUFFIXES"),
    "appendix_name": ("report.html", "appendix_name"),
    "plotly_js": ("report.html", "plotly_js"),
    "appendix_sections": ("report.html", "appendix_sections"),
    "tell": ("story", "tell"),
    "track_record_words": ("report.track", "paragraphs"),
    "track_record": ("service.track_record", "backtest"),
    "compare_story": ("story", "compare"),
    # the roll-up and its executors
    "rollup": ("rollup", "rollup"),
    "load_rollup_plans": ("rollup", "load_plans"),
    "check_rollup_size": ("rollup", "check_size"),
    "RollupInputError": ("rollup", "RollupInputError"),
    "ExecutorError": ("executors", "ExecutorError"),
    "SchedulerUnreachable": ("executors", "SchedulerUnreachable"),
    # saved records, files and local tables
    "RunRecord": ("record", "RunRecord"),
    "RecordError": ("record", "RecordError"),
    "atomic_files": ("results", "atomic_files"),
    "overwriting": ("results", "overwriting"),
    "NotARegularFile": ("results", "NotARegularFile"),
    "LocalDataError": ("local_data", "LocalDataError"),
    "write_template": ("local_data", "write_template"),
    # the store's location
    "database_url": ("store.database", "database_url"),
    "upgrade_store": ("store.database", "upgrade"),
    "DatabaseError": ("store.database", "DatabaseError"),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = NAMES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    found = import_module(f"stpsim.{module}")
    value = getattr(found, attr) if attr else found
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted(NAMES)
