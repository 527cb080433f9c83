"""Reading tracked runs: experiments, paged search, one run's detail, comparisons."""
