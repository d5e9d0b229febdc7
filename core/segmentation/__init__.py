"""Customer segmentation: RFM scores and named segments, clusters, migration and lifetime value.

Public surface (each module holds one concept):
    orders       per-customer summaries of an order log at an as-of date, with data checks
    rfm          recency / frequency / monetary scores 1-5 by rank-based quintiles
    rules        named segments as rectangles of the recency x frequency grid
    rule_store   the editable rule set in the store
    features     the clustering feature matrix
    estimators   k-means and Gaussian mixture behind one scikit-learn-style interface
    k_selection  the k scan (silhouette, inertia, BIC) and the default choice of k
    profiles     cluster profiles and their descriptive names
    stability    how stable clusters are across bootstrap refits
    migration    segment transitions between two as-of dates
    bgnbd, gamma_gamma, clv   lifetime value: purchase frequency, spend, value per customer
    pipeline     everything above in one call (what the page, the CLI and the benchmark run)
    runs         saved segmentation runs in the store
"""
