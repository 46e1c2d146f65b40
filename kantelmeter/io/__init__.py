"""Reading and writing response files: SPSS, Excel, CSV, XLSForm and REDCap."""
