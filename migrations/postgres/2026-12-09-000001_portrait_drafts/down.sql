DROP TABLE portrait_drafts;
