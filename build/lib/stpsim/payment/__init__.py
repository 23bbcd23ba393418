"""Payments: one registered type per mechanism (``mechanisms``) and a rule book per financial
year (``rules``)."""

from .mechanisms import REGISTRY, Context, Contract, ContractSpec, contract, register
from .rules import RuleBook, rule_book, year_masks

__all__ = [
    "REGISTRY",
    "Context",
    "Contract",
    "ContractSpec",
    "RuleBook",
    "contract",
    "register",
    "rule_book",
    "year_masks",
]
