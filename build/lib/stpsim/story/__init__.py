"""Stories, not spreadsheets: a plan's results told in plain English.

Every number in the text comes from :class:`~stpsim.results.Results` through :func:`facts`, and
is printed by a helper that records what it printed and the value it was rounded from
(``Story.numbers``), so the tests can check each one. Two audiences, each with its phrasebook:
``board`` (a board paper) and ``public`` (local people: short sentences, no jargon, every
abbreviation explained, uncertainty in words). ``sections`` holds one function per section.
"""

from .core import (
    AUDIENCES,
    GLOSSARY,
    PLAIN,
    Number,
    Section,
    Story,
    count_text,
    facts,
    money_text,
    parse_number,
    ratio_text,
    service_facts,
)
from .sections import ORDER, compare, tell

__all__ = [
    "AUDIENCES",
    "GLOSSARY",
    "ORDER",
    "PLAIN",
    "Number",
    "Section",
    "Story",
    "compare",
    "count_text",
    "facts",
    "money_text",
    "parse_number",
    "ratio_text",
    "service_facts",
    "tell",
]
