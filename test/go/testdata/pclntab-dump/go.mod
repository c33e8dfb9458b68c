module zerodep.test/pclntab-dump

go 1.21
