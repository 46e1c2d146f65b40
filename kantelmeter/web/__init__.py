"""The web form: renders instruments and hands answers to the store."""
