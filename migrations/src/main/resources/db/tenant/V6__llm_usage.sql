-- Tokens sent to and received from language models, per key and day: daily budgets per key and
-- per tenant are enforced against it. Holds no PHI.
CREATE TABLE llm_usage (
  day           date   NOT NULL,
  key_id        text   NOT NULL,
  endpoint      text   NOT NULL,
  model         text   NOT NULL,
  prompt_tokens bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  calls         bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (day, key_id, endpoint, model)
);
GRANT SELECT, INSERT, UPDATE ON llm_usage TO ${tenant_role};
