-- No extension: the baseline.
SELECT 1;
