-- Where the last sealed block ended (0 before the first seal).
SELECT fence.sealed_until()
