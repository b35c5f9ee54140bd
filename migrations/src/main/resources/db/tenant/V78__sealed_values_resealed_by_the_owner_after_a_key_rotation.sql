-- After a rotation of the tenant's data key (`tenant rotate-data-key`, platform V17), the stored
-- resources, their versions and the chunk texts are sealed again under the new key version, a batch
-- at a time. No key of the tenant stands behind that work (resource rows change only with a live
-- ehr-integration key, V29), so it runs as the owner, whom FORCE ROW LEVEL SECURITY binds too: with
-- cc.access set to 'reencrypt', the policies below show the owner the rows and let it change them (read and update only)
--
-- Only a session that logged in as the owner: session_user = current_user is false inside the
-- SECURITY DEFINER functions the application role calls (they run as the owner, but the session is
-- the application's), so setting cc.access there opens nothing. The owner could disable row-level
-- security anyway; these policies give it no more than it has, only without a change of schema.
CREATE POLICY resources_reencrypt_read ON resources FOR SELECT TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'reencrypt' AND session_user = current_user);
CREATE POLICY resources_reencrypt ON resources FOR UPDATE TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'reencrypt' AND session_user = current_user)
  WITH CHECK (current_setting('cc.access', true) = 'reencrypt' AND session_user = current_user);
CREATE POLICY resource_versions_reencrypt_read ON resource_versions FOR SELECT TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'reencrypt' AND session_user = current_user);
CREATE POLICY resource_versions_reencrypt ON resource_versions FOR UPDATE TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'reencrypt' AND session_user = current_user)
  WITH CHECK (current_setting('cc.access', true) = 'reencrypt' AND session_user = current_user);
CREATE POLICY chunks_reencrypt_read ON chunks FOR SELECT TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'reencrypt' AND session_user = current_user);
CREATE POLICY chunks_reencrypt ON chunks FOR UPDATE TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'reencrypt' AND session_user = current_user)
  WITH CHECK (current_setting('cc.access', true) = 'reencrypt' AND session_user = current_user);
-- A version is retired only when no value names it, the audit bodies too (never re-encrypted: the log refuses
-- updates): the owner counts them under the same setting, and reads nothing else of the trail by it
CREATE POLICY audit_log_reencrypt_read ON audit_log FOR SELECT TO CURRENT_USER
  USING (current_setting('cc.access', true) = 'reencrypt' AND session_user = current_user);
