"""A synthetic population with known truth, written as the exports each body produces.

``generate`` builds persons and their life events (:mod:`boldhub.synth.population`), records
their identifiers with realistic errors (:mod:`boldhub.synth.noise`) and writes one
homelessness export per council, the probation, treatment and victims exports, and
``truth.csv``, which says which person each row belongs to (:mod:`boldhub.synth.exports`).
"""

from boldhub.synth.exports import SynthSummary, generate

__all__ = ["SynthSummary", "generate"]
