"""BOLD Hub: privacy-preserving linkage of council and central-government data.

Data flows one way, and the package is laid out along that flow:

    council export -> council/ -> privacy/ -> (package) -> hub/ -> linkage/ -> outcomes/

``schemas`` and ``synth`` feed every stage; ``cli`` is a thin shell over the rest.
"""

__version__ = "0.1.0"
