#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic: Swift cannot call them, so each argument type gets a wrapper.
static inline CURLcode rollout_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode rollout_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode rollout_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode rollout_curl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode rollout_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
typedef size_t (*rollout_curl_data_callback)(char *buffer, size_t size, size_t count, void *context);
static inline CURLcode rollout_curl_setopt_callback(CURL *handle, CURLoption option, rollout_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}
// Lets curl rewind a request body: it must resend it when a kept-alive connection turns out dead after the request
// went out (without one, curl fails with CURLE_SEND_FAIL_REWIND).
typedef int (*rollout_curl_seek_callback)(void *context, curl_off_t offset, int origin);
static inline CURLcode rollout_curl_setopt_seek_callback(CURL *handle, CURLoption option, rollout_curl_seek_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}
static inline CURLcode rollout_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
