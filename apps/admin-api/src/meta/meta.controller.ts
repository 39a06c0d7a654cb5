import { Controller, Get } from '@nestjs/common';
import { ADMIN_OPENAPI_DOCUMENT } from './openapi.document';
import { versionInfo, VersionView } from './version';

/** What a client asks before anything else: which API this is, and its description. */
@Controller()
export class MetaController {
  @Get('version')
  version(): VersionView {
    return versionInfo();
  }

  @Get('openapi.json')
  openapi(): typeof ADMIN_OPENAPI_DOCUMENT {
    return ADMIN_OPENAPI_DOCUMENT;
  }
}
