DROP TABLE seal_uses;
DROP TABLE seal_grants;
DROP TABLE seals;
