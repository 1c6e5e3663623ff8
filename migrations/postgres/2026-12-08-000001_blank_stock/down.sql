DROP TABLE blank_counts;
DROP TABLE permit_prints;
DROP TABLE blanks;
DROP TABLE blank_batches;
