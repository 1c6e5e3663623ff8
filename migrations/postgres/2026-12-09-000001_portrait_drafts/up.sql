-- A photo awaiting its crop: the upload turned upright and scaled to at most 2000 pixels, kept
-- while the officer checks its quality lines and moves the 33×48 box, then cropped into
-- portraits and deleted. One per application; a new upload replaces it.
CREATE TABLE portrait_drafts (
    application_id TEXT PRIMARY KEY REFERENCES applications (id),
    jpeg BYTEA NOT NULL,
    width INTEGER NOT NULL CHECK (width > 0),
    height INTEGER NOT NULL CHECK (height > 0),
    made_at TIMESTAMP NOT NULL,
    made_by TEXT NOT NULL REFERENCES officers (id)
);
