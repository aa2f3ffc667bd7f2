"""The one error type that means "fatal input problem" (SPEC §4): exit status 2 and one message.

Every layer may raise it: the YAML models of ``spec``, the readers of ``inputs``, the command line.
"""

from __future__ import annotations


class StudyError(Exception):
    """A fatal problem with a study's input: the run stops with exit status 2.

    Parameters
    ----------
    file : str
        The file (or ``study.yaml`` key path) at fault, as the researcher knows it.
    where : str
        The column, row or key at fault, e.g. ``"column 'company_id'"`` or ``"row 12"``.
    message : str
        What is wrong and what was expected.

    Examples
    --------
    >>> str(StudyError("respondents.csv", "column 'company_id'", "required column is missing"))
    "respondents.csv: column 'company_id': required column is missing"
    """

    def __init__(self, file: str, where: str, message: str):
        self.file, self.where, self.message = str(file), where, message
        super().__init__(f"{self.file}: {where}: {message}" if where else f"{self.file}: {message}")
