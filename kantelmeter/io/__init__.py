"""Reading and writing response files: SPSS, Excel, CSV, XLSForm and REDCap.

Import: :func:`import_responses` (CSV, XLSX, SPSS, ODK/KoboToolbox exports),
checked row by row by :func:`validate_responses`. Export:
:func:`export_responses` (SPSS with labels, CSV with codebook, XLSX), and
collection forms for other tools: :func:`write_xlsform` and
:func:`write_redcap_dictionary`.
"""

from kantelmeter.io.mapping import apply_mapping, odk_columns, read_mapping
from kantelmeter.io.redcap import redcap_dictionary, write_redcap_dictionary
from kantelmeter.io.spss import read_sav, write_sav
from kantelmeter.io.tabular import read_csv, read_xlsx, write_csv, write_xlsx
from kantelmeter.io.transfer import ImportResult, export_responses, import_responses
from kantelmeter.io.validation import ImportRejected, ValidationReport, validate_responses
from kantelmeter.io.xlsform import write_xlsform, xlsform

__all__ = [
    "ImportRejected",
    "ImportResult",
    "ValidationReport",
    "apply_mapping",
    "export_responses",
    "import_responses",
    "odk_columns",
    "read_csv",
    "read_mapping",
    "read_sav",
    "read_xlsx",
    "redcap_dictionary",
    "validate_responses",
    "write_csv",
    "write_redcap_dictionary",
    "write_sav",
    "write_xlsform",
    "write_xlsx",
    "xlsform",
]
