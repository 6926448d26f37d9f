-- The run store's own database, beside Temporal's (the worker migrates its schema at start).
CREATE DATABASE thought_probe OWNER temporal;
