// Uploads a file to a Serambi gateway with the reference tus client, over mutual TLS, in parts
// of PART bytes, stopping once after STOP_AFTER bytes (0: never) and resuming from the URL it
// was given, as a browser that lost its link would. Prints the upload URL.
//   node upload.js URL CERT KEY CA FILE DATASET PART STOP_AFTER
"use strict";
const fs = require("fs");
const tus = require("tus-js-client");

const [endpoint, cert, key, ca, file, dataset, part, stopAfter] = process.argv.slice(2);
const stack = new tus.DefaultHttpStack({
  cert: fs.readFileSync(cert),
  key: fs.readFileSync(key),
  ca: fs.readFileSync(ca),
});
const size = fs.statSync(file).size;

function upload(resumeUrl, stopAt) {
  return new Promise((resolve, reject) => {
    const u = new tus.Upload(fs.createReadStream(file), {
      endpoint: endpoint + "/v1/uploads",
      uploadUrl: resumeUrl,
      uploadSize: size,
      chunkSize: Number(part),
      httpStack: stack,
      retryDelays: [],
      metadata: { dataset, filename: require("path").basename(file), filetype: "text/csv" },
      onProgress(sent) {
        if (stopAt && sent >= stopAt) {
          u.abort(false).then(() => resolve({ url: u.url, done: false }));
        }
      },
      onError: reject,
      onSuccess: () => resolve({ url: u.url, done: true }),
    });
    u.start();
  });
}

(async () => {
  let result = await upload(null, Number(stopAfter));
  if (!result.done) result = await upload(result.url, 0);
  console.log(result.url);
})().catch((e) => {
  console.error("tus upload failed: " + e);
  process.exit(1);
});
