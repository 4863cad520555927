"""One module per schema revision (a package, so installed copies ship it)."""
