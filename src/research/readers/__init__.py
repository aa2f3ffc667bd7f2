"""Readers turn researchers' files into tidy DataFrames: survey tables and interview transcripts."""

from .tables import read_table
from .transcripts import read_transcript

__all__ = ["read_table", "read_transcript"]
