/**
 * The Firebase adapters: the only code that imports firebase-admin and @google-cloud/*. Each
 * implements one port of `../ports`; docs/firebase.md describes the data layout they share.
 */
export * from './adapter-errors';
export { CloudTasksQueue, cloudTaskId, queueResourceName, DEFAULT_DISPATCH_DEADLINE_SECONDS, DISPATCH_DEADLINE_RANGE } from './cloud-tasks-queue';
export type { CloudTasksQueueOptions } from './cloud-tasks-queue';
export { FcmNotifier, fcmMessage, firestoreTokenLookup } from './fcm-notifier';
export { FirestoreDeviceRegistry } from './firestore-device-registry';
export type { RegistrationTokenLookup } from './fcm-notifier';
export { fromDocument, timestampsToMillis, toDocument } from './firestore-documents';
export { FirestoreJobStore } from './firestore-job-store';
export type { FirestoreJobStoreOptions } from './firestore-job-store';
export { COLLECTIONS, FirestoreLayout, documentId } from './firestore-layout';
export { CHAT_SOURCE_QUERIES, FIRESTORE_QUERIES } from './firestore-queries';
export { CHAT_ORDER_FIELD, FirestoreChatSource, decodeChatCursor, encodeChatCursor, parseMessagesPath } from './firestore-chat-source';
export type { FirestoreChatSourceConfig } from './firestore-chat-source';
export type { FirestoreIndexField, FirestoreQueryIndex } from './firestore-queries';
export { GcsBlobStore, blobInfo } from './gcs-blob-store';
export type { GcsBlobStoreOptions } from './gcs-blob-store';
export { LIFEBOAT_SHA256, LIFEBOAT_WRITTEN } from './gcs-objects';
export {
  GcsUploadSessions,
  MAX_SIGNED_URL_SECONDS,
  UPLOADS_FOLDER,
  parseUploadObject,
  shouldHandleFinalizedObject,
  signedDownloadUrl,
} from './gcs-upload-sessions';
export type { FinalizedObject, GcsUploadSessionsOptions, ParsedUpload } from './gcs-upload-sessions';
export { RoutedBlobStore } from './routed-blob-store';
export { EventarcPublisher, toCloudEvent } from './eventarc-publisher';
export type { EventChannel } from './eventarc-publisher';
export { CloudTasksMonitor, CLOUD_TASKS_API } from './cloud-tasks-monitor';
export type { CloudTasksMonitorOptions } from './cloud-tasks-monitor';
export { ADMIN_CLAIM, adminClaimVerifier, setAdminClaim } from './firebase-admin-claims';
export type { ClaimsAdmin, ClaimsAuth } from './firebase-admin-claims';
export { FirestoreAdminStore, JOB_QUERY_PLANS, SCAN_LIMIT, jobQueryPlan } from './firestore-admin-store';
export { ADMIN_QUERIES } from './firestore-queries';
