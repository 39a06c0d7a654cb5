import { IsObject } from 'class-validator';

/** `PATCH /kafka-clusters/{name}`: the new properties replace the old ones entirely. */
export class UpdateKafkaClusterDto {
  @IsObject({ message: 'properties must be an object of librdkafka properties (string values)' })
  properties: Record<string, string>;
}
